// The media pod's join token key: the HS256 secret or the control API's public key, exactly one.
import { describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from './config.js';

const base = {
  MEDIA_NODE_ID: 'media-0',
  MEDIA_REGION: 'eu-west',
  MEDIA_ANNOUNCED_ADDRESS: '198.51.100.9',
  REDIS_URL: 'redis://127.0.0.1:6379',
};
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('media pod join token key', () => {
  test('the HS256 secret or the public key; the algorithm follows the key', () => {
    expect(loadConfig({ ...base, JOIN_TOKEN_SECRET: 's'.repeat(32) }).joinTokenKey.alg).toBe(
      'HS256',
    );
    expect(loadConfig({ ...base, JOIN_TOKEN_PUBLIC_KEY: publicPem }).joinTokenKey.alg).toBe(
      'EdDSA',
    );
  });

  test('neither, both, a short secret, a private key: each refused, naming the variable', () => {
    expect(problems(base)).toContain(
      'JOIN_TOKEN_SECRET or JOIN_TOKEN_PUBLIC_KEY is required, exactly one (got neither)',
    );
    expect(
      problems({ ...base, JOIN_TOKEN_SECRET: 's'.repeat(32), JOIN_TOKEN_PUBLIC_KEY: publicPem }),
    ).toContain('JOIN_TOKEN_SECRET or JOIN_TOKEN_PUBLIC_KEY is required, exactly one (got both)');
    expect(problems({ ...base, JOIN_TOKEN_SECRET: 'short' })).toContain(
      'JOIN_TOKEN_SECRET must be at least 32 bytes (HS256)',
    );
    expect(problems({ ...base, JOIN_TOKEN_PUBLIC_KEY: privatePem })).toContain(
      'JOIN_TOKEN_PUBLIC_KEY: this is a private key; media pods get the public key only',
    );
  });
});
