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

  test('the join-token public key is a Secret reference (default key public.pem); the HS256 secret stays absent', () => {
    const config = loadConfig({
      ...base,
      AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME: 'amphi-join-keys',
    });
    expect(config.mediaPod.joinTokenPublicKeySecret).toEqual({
      name: 'amphi-join-keys',
      key: 'public.pem',
    });
    expect(config.mediaPod.joinTokenSecret).toBeUndefined();
    const custom = loadConfig({
      ...base,
      AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME: 'amphi-join-keys',
      AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_KEY: 'ed25519.pub.pem',
    });
    expect(custom.mediaPod.joinTokenPublicKeySecret).toEqual({
      name: 'amphi-join-keys',
      key: 'ed25519.pub.pem',
    });
  });

  test('the HS256 secret only: as before, no public key reference', () => {
    const config = loadConfig({ ...base, AMPHI_JOIN_TOKEN_SECRET_NAME: 'amphi-secrets' });
    expect(config.mediaPod.joinTokenSecret).toEqual({ name: 'amphi-secrets', key: 'secret' });
    expect(config.mediaPod.joinTokenPublicKeySecret).toBeUndefined();
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
    expect(problems({ AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME: 'Keys!' })).toEqual([
      expect.stringContaining('AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME="Keys!"'),
    ]);
    expect(
      problems({
        AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME: 'amphi-join-keys',
        AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_KEY: 'public key',
      }),
    ).toEqual([expect.stringContaining('AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_KEY="public key"')]);
  });
});
