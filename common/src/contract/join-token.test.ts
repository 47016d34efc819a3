import { describe, expect, test } from '@jest/globals';
import { generateKeyPair } from 'jose';
import {
  JoinTokenError,
  signJoinToken,
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
});
