import { describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { generateKeyPair } from 'jose';
import {
  JoinTokenError,
  signJoinToken,
  signingKeyFromPem,
  verificationKeyFromPem,
  verifyJoinToken,
  type JoinClaims,
  type SigningKey,
} from './join-token.js';

const claims: JoinClaims = {
  sub: 'user-1',
  room: 'default/town-hall',
  shard: 'e1',
  node: 'media-0',
  role: 'listener',
  name: 'Ada',
};
const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
const hs: SigningKey = { alg: 'HS256', secret };

describe('join tokens', () => {
  test('a signed token verifies to its claims', async () => {
    const token = await signJoinToken(claims, hs, { issuer: 'amphi-control' });
    const verified = await verifyJoinToken(token, hs, { issuer: 'amphi-control' });
    expect(verified).toMatchObject(claims);
    expect(verified.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('an expired token is refused as expired', async () => {
    const now = Math.floor(Date.now() / 1000) - 3600;
    const token = await signJoinToken(claims, hs, { issuer: 'i', ttlSeconds: 60, now });
    await expect(verifyJoinToken(token, hs, { issuer: 'i' })).rejects.toMatchObject({
      problem: 'expired',
    });
  });

  test('a forged signature, a tampered payload, another issuer or audience are refused', async () => {
    const token = await signJoinToken(claims, hs, { issuer: 'i' });
    const forged = await signJoinToken(
      claims,
      { alg: 'HS256', secret: new TextEncoder().encode('another-secret-another-secret-xx') },
      { issuer: 'i' },
    );
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const tampered = [
      h,
      Buffer.from(JSON.stringify({ ...payload, role: 'host' })).toString('base64url'),
      s,
    ].join('.');
    for (const bad of [forged, tampered, 'not-a-jwt']) {
      await expect(verifyJoinToken(bad, hs, { issuer: 'i' })).rejects.toBeInstanceOf(
        JoinTokenError,
      );
    }
    await expect(verifyJoinToken(token, hs, { issuer: 'other' })).rejects.toMatchObject({
      problem: 'invalid',
    });
    await expect(
      verifyJoinToken(token, hs, { issuer: 'i', audience: 'someone-else' }),
    ).rejects.toMatchObject({ problem: 'invalid' });
  });

  test('asymmetric keys: the media pod needs only the public key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    const token = await signJoinToken(claims, { alg: 'EdDSA', privateKey }, { issuer: 'i' });
    const verified = await verifyJoinToken(token, { alg: 'EdDSA', publicKey }, { issuer: 'i' });
    expect(verified.role).toBe('listener');
    // An HS256 token cannot pass where EdDSA is expected (algorithm confusion).
    const hsToken = await signJoinToken(claims, hs, { issuer: 'i' });
    await expect(
      verifyJoinToken(hsToken, { alg: 'EdDSA', publicKey }, { issuer: 'i' }),
    ).rejects.toBeInstanceOf(JoinTokenError);
  });

  test('claims that break the schema are refused before signing', async () => {
    await expect(
      signJoinToken({ ...claims, role: 'admin' as JoinClaims['role'] }, hs, { issuer: 'i' }),
    ).rejects.toThrow(/role/);
  });

  test('PEM key pairs as openssl writes them: the algorithm follows the key; tokens verify across', async () => {
    const pairs = [
      ['EdDSA', generateKeyPairSync('ed25519')],
      ['ES256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
      ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ] as const;
    for (const [alg, { privateKey, publicKey }] of pairs) {
      // SEC1 / PKCS#1 private keys (openssl's and Helm's defaults) are taken as well as PKCS#8.
      const privatePem = privateKey
        .export({
          format: 'pem',
          type: alg === 'EdDSA' ? 'pkcs8' : alg === 'ES256' ? 'sec1' : 'pkcs1',
        })
        .toString();
      const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const signing = signingKeyFromPem(privatePem, 'JOIN_TOKEN_PRIVATE_KEY');
      const verifying = verificationKeyFromPem(publicPem, 'JOIN_TOKEN_PUBLIC_KEY');
      expect([signing.alg, verifying.alg]).toEqual([alg, alg]);
      const token = await signJoinToken(claims, signing, { issuer: 'i' });
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg).toBe(alg);
      await expect(verifyJoinToken(token, verifying, { issuer: 'i' })).resolves.toMatchObject(
        claims,
      );
      // An HS256 token is refused by an asymmetric pod (no algorithm confusion).
      const hsToken = await signJoinToken(claims, hs, { issuer: 'i' });
      await expect(verifyJoinToken(hsToken, verifying, { issuer: 'i' })).rejects.toMatchObject({
        problem: 'invalid',
      });
    }
  });

  test('bad PEM keys are refused with the variable named', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const p384 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => signingKeyFromPem(p384, 'JOIN_TOKEN_PRIVATE_KEY')).toThrow(
      'JOIN_TOKEN_PRIVATE_KEY: an Ed25519, EC P-256 or RSA (2048 bits or more) key is required, not ec secp384r1',
    );
    expect(() => signingKeyFromPem('not a key', 'JOIN_TOKEN_PRIVATE_KEY')).toThrow(
      /^JOIN_TOKEN_PRIVATE_KEY: not a PEM private key/,
    );
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
    expect(() => verificationKeyFromPem(ed.toString(), 'JOIN_TOKEN_PUBLIC_KEY')).toThrow(
      'JOIN_TOKEN_PUBLIC_KEY: this is a private key; media pods get the public key only',
    );
  });
});
