import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';

const base = { KUBECONFIG: '/tmp/kubeconfig', REDIS_URL: 'redis://:pw@redis:6379' };

describe('operator config: what the media pods get', () => {
  test('the media pods’ Redis password is a Secret reference; the URL keeps $(REDIS_PASSWORD)', () => {
    const config = loadConfig({
      ...base,
      AMPHI_MEDIA_REDIS_URL: 'redis://:$(REDIS_PASSWORD)@redis:6379',
      AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME: 'amphi-secrets',
      AMPHI_JOIN_TOKEN_SECRET_NAME: 'amphi-secrets',
      AMPHI_JOIN_TOKEN_SECRET_KEY: 'join-token-secret',
    });
    expect(config.mediaPod).toEqual({
      redisUrl: 'redis://:$(REDIS_PASSWORD)@redis:6379',
      redisPasswordSecret: { name: 'amphi-secrets', key: 'redis-password' },
      joinTokenSecret: { name: 'amphi-secrets', key: 'join-token-secret' },
    });
  });

  test('a whole URL from a Secret', () => {
    const config = loadConfig({
      ...base,
      AMPHI_MEDIA_REDIS_URL_SECRET_NAME: 'external-redis',
      AMPHI_MEDIA_REDIS_URL_SECRET_KEY: 'url',
    });
    expect(config.mediaPod.redisUrlSecret).toEqual({ name: 'external-redis', key: 'url' });
  });

  test('$(REDIS_PASSWORD) without its Secret, and bad Secret names or keys, are named errors', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...env });
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
      }
      return [];
    };
    expect(problems({ AMPHI_MEDIA_REDIS_URL: 'redis://:$(REDIS_PASSWORD)@redis:6379' })).toEqual([
      expect.stringContaining('AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME'),
    ]);
    expect(problems({ AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME: 'Not_A_Name' })).toEqual([
      expect.stringContaining('AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME="Not_A_Name"'),
    ]);
    expect(
      problems({ AMPHI_MEDIA_REDIS_URL_SECRET_NAME: 'x', AMPHI_MEDIA_REDIS_URL_SECRET_KEY: 'a b' }),
    ).toEqual([expect.stringContaining('AMPHI_MEDIA_REDIS_URL_SECRET_KEY="a b"')]);
  });
});
