// Configuration errors name every bad variable at once.
import { describe, expect, test } from '@jest/globals';
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
});
