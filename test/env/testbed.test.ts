// startTestBed(): starts only what is asked for, and stop() (or a failed start) leaves no process.
import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startTestBed } from './testbed.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startTestBed', () => {
  const saved = { runDir: process.env.AMPHI_RUN_DIR, cache: process.env.AMPHI_CACHE };
  const dirs: string[] = [];

  afterEach(() => {
    for (const [key, value] of [
      ['AMPHI_RUN_DIR', saved.runDir],
      ['AMPHI_CACHE', saved.cache],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A run directory of our own: its pids/ lists exactly the processes this test started. */
  function useTempRunDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-bed-'));
    dirs.push(dir);
    process.env.AMPHI_RUN_DIR = dir;
    return join(dir, 'pids');
  }

  test('redis only: a real server, nothing else, and stop() leaves no process', async () => {
    const pids = useTempRunDir();
    const bed = await startTestBed({ redis: true });
    // Typed: bed.redis is a RedisHandle; parts not asked for are undefined.
    expect(bed.kubernetes).toBeUndefined();
    expect(bed.cassandra).toBeUndefined();
    const redis = new Redis(bed.redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
    const pid = bed.redis.process.pid!;
    expect(alive(pid)).toBe(true);
    expect(readdirSync(pids)).toEqual([String(pid)]);

    await bed.stop();
    expect(alive(pid)).toBe(false);
    expect(readdirSync(pids)).toEqual([]);
    await bed.stop(); // idempotent
  });

  test('a part that cannot start stops the parts that did, and names itself', async () => {
    const pids = useTempRunDir();
    const logs = join(pids, '..', 'logs');
    // An empty cache: Cassandra is "not provisioned" there, Redis (a Debian binary) still starts.
    const cache = mkdtempSync(join(tmpdir(), 'amphi-bed-cache-'));
    dirs.push(cache);
    process.env.AMPHI_CACHE = cache;
    await expect(startTestBed({ redis: true, cassandra: true })).rejects.toThrow(
      /^cassandra failed to start: Cassandra .* is not provisioned/,
    );
    // Redis did run (it left its log) and is gone again.
    expect(readdirSync(logs).filter((name) => name.startsWith('redis-'))).toHaveLength(1);
    expect(readdirSync(pids)).toEqual([]);
  });
});
