// Configuration errors name every bad variable at once.
import { describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from './config.js';

const base = {
  AUTH_JWT_ISSUER: 'https://idp',
  AUTH_JWT_AUDIENCE: 'amphi',
  AUTH_JWT_SECRET: 'x'.repeat(32),
  JOIN_TOKEN_SECRET: 'y'.repeat(32),
};

describe('configuration', () => {
  test('defaults fill what is not set', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      port: 8080,
      namespace: 'default',
      bodyLimitBytes: 16384,
      cassandra: undefined,
    });
    expect(config.jwt.algorithms).toContain('HS256');
  });

  test('every problem is listed, each once, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        ROOM_NAMESPACE: 'Bad_NS',
        JOIN_TOKEN_SECRET: 'short',
        API_KEYS: 'ci=tooshort',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: not a number/),
        expect.stringMatching(/^ROOM_NAMESPACE: .*Bad_NS/),
        'AUTH_JWT_ISSUER: required',
        'AUTH_JWT_AUDIENCE: required',
        expect.stringMatching(/^JOIN_TOKEN_SECRET: /),
      ]),
    );
    expect(new Set(problems.map((p) => p.split(':')[0])).size).toBe(problems.length);
  });

  test('exactly one JWT key source; API keys need long secrets', () => {
    expect(() => loadConfig({ ...base, AUTH_JWKS_URL: 'https://idp/jwks' })).toThrow(/exactly one/);
    expect(() => loadConfig({ ...base, API_KEYS: 'ci=short' })).toThrow(/API_KEYS/);
    expect(loadConfig({ ...base, API_KEYS: `ci=${'k'.repeat(24)}` }).apiKeys).toEqual([
      { name: 'ci', secret: 'k'.repeat(24) },
    ]);
  });

  test('join tokens: an HS256 secret or a PEM private key, exactly one; a bad key is named', () => {
    expect(loadConfig(base).joinToken.key.alg).toBe('HS256');
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const noSecret: Record<string, string> = { ...base };
    delete noSecret.JOIN_TOKEN_SECRET;
    expect(loadConfig({ ...noSecret, JOIN_TOKEN_PRIVATE_KEY: pem }).joinToken.key.alg).toBe(
      'EdDSA',
    );
    expect(() => loadConfig({ ...base, JOIN_TOKEN_PRIVATE_KEY: pem })).toThrow(
      'JOIN_TOKEN_SECRET, JOIN_TOKEN_PRIVATE_KEY: exactly one must be set (got 2)',
    );
    expect(() => loadConfig(noSecret)).toThrow(/exactly one must be set \(got 0\)/);
    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => loadConfig({ ...noSecret, JOIN_TOKEN_PRIVATE_KEY: dsa })).toThrow(
      'JOIN_TOKEN_PRIVATE_KEY: an Ed25519, EC P-256 or RSA (2048 bits or more) key is required, not dsa',
    );
  });
});
