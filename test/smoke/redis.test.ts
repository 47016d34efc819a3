// Smoke test of the test bed's real Redis: an atomic Lua compare-and-set and a pub/sub round trip.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { once } from 'node:events';
import { Redis, type Result } from 'ioredis';
import { startRedis, type RedisHandle } from '../env/redis.js';

// Compare-and-set of one field of a versioned hash, with an audit entry, atomically.
// KEYS[1] hash, KEYS[2] list (same hash tag, so a cluster would keep them in one slot);
// ARGV: expected version, field, value. Returns {applied 0|1, version after}.
const CAS_FIELD = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return {0, current}
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], 'version', current + 1)
redis.call('RPUSH', KEYS[2], ARGV[2] .. '=' .. ARGV[3])
return {1, current + 1}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    casField(
      hashKey: string,
      logKey: string,
      expectedVersion: number,
      field: string,
      value: string,
    ): Result<[number, number], Context>;
  }
}

describe('Redis (real redis-server)', () => {
  let server: RedisHandle;
  const clients: Redis[] = [];
  const client = (): Redis => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.defineCommand('casField', { numberOfKeys: 2, lua: CAS_FIELD });
    clients.push(redis);
    return redis;
  };

  beforeAll(async () => {
    server = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(clients.map((redis) => redis.quit()));
    await server?.stop();
    expect(server?.process.running ?? false).toBe(false);
  });

  test('answers PING and reports a real server', async () => {
    const redis = client();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.info('server')).toMatch(/redis_version:\d+\.\d+/);
  });

  test('a Lua compare-and-set applies exactly once under concurrency', async () => {
    const redis = client();
    const hash = '{room:42}:state';
    const log = '{room:42}:log';

    expect(await redis.casField(hash, log, 0, 'speaker', 'alice')).toEqual([1, 1]);
    // A stale version is refused and nothing changes.
    expect(await redis.casField(hash, log, 0, 'speaker', 'mallory')).toEqual([0, 1]);

    // Ten clients race on version 1: the script is atomic, so exactly one wins.
    const racers = Array.from({ length: 10 }, () => client());
    const results = await Promise.all(
      racers.map((racer, i) => racer.casField(hash, log, 1, 'speaker', `racer-${i}`)),
    );
    const winners = results.filter(([applied]) => applied === 1);
    expect(winners).toEqual([[1, 2]]);
    expect(results.filter(([applied]) => applied === 0)).toHaveLength(9);

    const state = await redis.hgetall(hash);
    expect(state.version).toBe('2');
    expect(state.speaker).toMatch(/^racer-\d$/);
    expect(await redis.lrange(log, 0, -1)).toEqual(['speaker=alice', `speaker=${state.speaker}`]);

    // Plain EVAL too: the script cache and argument passing of the server itself.
    expect(
      await redis.eval("return redis.call('HGET', KEYS[1], ARGV[1])", 1, hash, 'version'),
    ).toBe('2');
  });

  test('pub/sub delivers a published message', async () => {
    const subscriber = client();
    const publisher = client();
    const channel = '{room:42}:events';
    expect(await subscriber.subscribe(channel)).toBe(1);

    const received = once(subscriber, 'message') as Promise<[string, string]>;
    const payload = JSON.stringify({ type: 'speaker-changed', speaker: 'alice' });
    expect(await publisher.publish(channel, payload)).toBe(1);
    expect(await received).toEqual([channel, payload]);
    await subscriber.unsubscribe(channel);
  });
});
