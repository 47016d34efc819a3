// Control API durability on a real Redis and a real Cassandra 5.0: migrations are idempotent, joins
// keep working while Cassandra is frozen and every event lands in Cassandra exactly once when it is
// back, and killing the write-behind consumer (a separate process) in the middle of a stream loses
// nothing: another consumer claims its pending entries.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import cassandra from 'cassandra-driver';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { migrate } from '../../control-api/src/durable/migrations.js';
import { GROUP } from '../../control-api/src/durable/write-behind.js';
import { controlRoomKeys } from '../../control-api/src/redis/keys.js';
import {
  MemoryAudioRooms,
  beatForever,
  call,
  placeRoom,
  startApi,
  testEnv,
  userToken,
  type TestApi,
} from '../../control-api/test/harness.js';
import { startCassandra, type CassandraHandle } from '../env/cassandra.js';
import { ManagedProcess } from '../env/managed-process.js';
import { repoRoot } from '../env/paths.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { waitFor } from '../env/wait.js';

const KEYSPACE = 'amphi_it';
const NS = 'rooms';

describe('control API durability (real Redis, real Cassandra, consumer processes)', () => {
  let redisServer: RedisHandle;
  let node: CassandraHandle;
  let client: cassandra.Client;
  let redis: Redis;
  let api: TestApi;
  let stopBeats: () => void;
  const consumers: ManagedProcess[] = [];
  let host: string;

  const startConsumer = async (
    name: string,
    env: Record<string, string> = {},
  ): Promise<ManagedProcess> => {
    const proc = new ManagedProcess({
      name: `write-behind-${name}-${process.pid}`,
      command: process.execPath,
      args: ['--import', 'tsx', 'control-api/src/durable/consumer-main.ts'],
      cwd: repoRoot,
      env: {
        ...process.env,
        REDIS_URL: redisServer.url,
        CASSANDRA_CONTACT_POINTS: node.contactPoint,
        CASSANDRA_LOCAL_DC: node.localDataCenter,
        CASSANDRA_KEYSPACE: KEYSPACE,
        CONSUMER_NAME: name,
        LOG_LEVEL: 'warn',
        ...env,
      },
    });
    consumers.push(proc);
    await waitFor(() => readFileSync(proc.logFile, 'utf8').includes('READY'), {
      what: `consumer ${name} to start`,
      timeoutMs: 60_000,
      intervalMs: 100,
      abortIf: () => proc.exitReason(),
    });
    return proc;
  };

  /** Rows of one room in room_events, and whether any (room, entry id) repeats. */
  const rows = async (room: string): Promise<number> => {
    const result = await client.execute(
      `SELECT room_id, event_ms, event_seq FROM ${KEYSPACE}.room_events`,
      [],
      {
        fetchSize: 100_000,
      },
    );
    const ids = result.rows
      .filter((r) => r.get('room_id') === room)
      .map((r) => `${r.get('event_ms')}-${r.get('event_seq')}`);
    expect(new Set(ids).size).toBe(ids.length);
    return ids.length;
  };
  const entriesAdded = async (room: string): Promise<number> => {
    const info = (await redis.call('XINFO', 'STREAM', controlRoomKeys(room).log)) as unknown[];
    return Number(info[info.indexOf('entries-added') + 1]);
  };
  const pending = async (room: string): Promise<number> =>
    Number(((await redis.xpending(controlRoomKeys(room).log, GROUP)) as [number])[0]);
  const allWritten = async (room: string, timeoutMs = 90_000): Promise<void> => {
    await waitFor(async () => (await rows(room)) === (await entriesAdded(room)), {
      what: `every event of ${room} in Cassandra`,
      timeoutMs,
      intervalMs: 250,
    });
    await waitFor(
      async () =>
        (await redis.xlen(controlRoomKeys(room).log)) === 0 && (await pending(room)) === 0,
      {
        what: `${room}'s stream acknowledged and trimmed`,
        timeoutMs: 10_000,
      },
    );
  };
  const joinAll = async (room: string, users: string[]): Promise<number[]> =>
    Promise.all(
      users.map(async (u) => {
        const t0 = performance.now();
        const r = await call(api.url, 'POST', `/v1/rooms/${room}/join`, {
          auth: await userToken(u),
          body: {},
        });
        expect(r.status).toBe(200);
        return performance.now() - t0;
      }),
    );

  beforeAll(async () => {
    [redisServer, node] = await Promise.all([startRedis(), startCassandra()]);
    redis = new Redis(redisServer.url);
    client = new cassandra.Client({
      contactPoints: [node.contactPoint],
      localDataCenter: node.localDataCenter,
    });
    await client.connect();
    api = await startApi(testEnv(redisServer.url), new MemoryAudioRooms(NS));
    stopBeats = beatForever(redis);
    host = await userToken('host');
  }, 300_000);

  afterAll(async () => {
    stopBeats?.();
    for (const proc of consumers) await proc.stop(5_000);
    await api?.close();
    redis?.disconnect();
    await client?.shutdown();
    await redisServer?.stop();
    await node?.stop();
  }, 60_000);

  test('migrations are versioned and idempotent', async () => {
    const replication = "{'class': 'SimpleStrategy', 'replication_factor': 1}";
    expect(await migrate(client, KEYSPACE, replication)).toEqual([1]);
    expect(await migrate(client, KEYSPACE, replication)).toEqual([]);
    const tables = await client.execute(
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?',
      [KEYSPACE],
    );
    expect(tables.rows.map((r) => r.get('table_name') as string).sort()).toEqual([
      'participation_by_user',
      'room_events',
      'rooms',
      'schema_migrations',
    ]);
  });

  test('joins keep working while Cassandra is frozen; afterwards every event is in Cassandra exactly once', async () => {
    const room = `${NS}/durable`;
    expect(
      (
        await call(api.url, 'POST', '/v1/rooms', {
          auth: host,
          body: { name: 'durable', title: 'Durable' },
        })
      ).status,
    ).toBe(201);
    await placeRoom(redis, room);
    const a = await startConsumer('a');
    await joinAll('durable', ['l0', 'l1', 'l2', 'l3', 'l4']);
    await allWritten(room);

    process.kill(-node.process.pid!, 'SIGSTOP');
    let latencies: number[];
    try {
      latencies = await joinAll(
        'durable',
        Array.from({ length: 30 }, (_, i) => `frozen-${i}`),
      );
      for (let i = 0; i < 10; i++) {
        const r = await call(api.url, 'POST', '/v1/rooms/durable/hand', {
          auth: await userToken(`frozen-${i}`),
          body: {},
        });
        expect(r.status).toBe(200);
      }
      // Longer than the driver's read timeout: the consumer's writes fail and stay pending.
      await new Promise((r) => setTimeout(r, 7_000));
      expect(await redis.xlen(controlRoomKeys(room).log)).toBeGreaterThan(0);
    } finally {
      process.kill(-node.process.pid!, 'SIGCONT');
    }
    expect(Math.max(...latencies)).toBeLessThan(2_000);
    await allWritten(room);
    expect(await rows(room)).toBe(1 + 35 + 10); // room-created, joins, hand raises
    expect(readFileSync(a.logFile, 'utf8')).toMatch(/write-behind pass failed/);
    const history = await client.execute(
      `SELECT room_id, action FROM ${KEYSPACE}.participation_by_user WHERE user_id = ?`,
      ['frozen-7'],
    );
    expect(history.rows.map((r) => [r.get('room_id'), r.get('action')])).toEqual([[room, 'join']]);
    const record = await client.execute(
      `SELECT title, host FROM ${KEYSPACE}.rooms WHERE room_id = ?`,
      [room],
    );
    expect(record.first().get('title')).toBe('Durable');
    expect(record.first().get('host')).toBe('host');
  });

  test('killing the write-behind consumer mid-stream loses nothing', async () => {
    for (const proc of consumers) await proc.kill();
    const room = `${NS}/crash`;
    expect(
      (
        await call(api.url, 'POST', '/v1/rooms', {
          auth: host,
          body: { name: 'crash', title: 'Crash' },
        })
      ).status,
    ).toBe(201);
    await placeRoom(redis, room);
    const users = Array.from({ length: 30 }, (_, i) => `c${i}`);
    await joinAll('crash', users);
    await Promise.all(
      users.map(async (u) => {
        const auth = await userToken(u);
        for (let i = 0; i < 5; i++) {
          expect(
            (await call(api.url, 'POST', '/v1/rooms/crash/hand', { auth, body: {} })).status,
          ).toBe(200);
          expect((await call(api.url, 'DELETE', '/v1/rooms/crash/hand', { auth })).status).toBe(
            200,
          );
        }
      }),
    );
    const total = await entriesAdded(room);
    expect(total).toBe(1 + 30 + 300);

    // A slow consumer takes a batch, writes part of it, and is killed (SIGKILL) in the middle.
    const slow = await startConsumer('b', { WRITE_DELAY_MS: '20' });
    await waitFor(async () => (await rows(room)) >= 20, {
      what: 'the slow consumer to write some',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    await slow.kill();
    const written = await rows(room);
    expect(written).toBeLessThan(total);
    expect(await pending(room)).toBeGreaterThan(0); // read by b, never acknowledged

    // Another consumer claims b's pending entries once idle and finishes the stream.
    await startConsumer('c', { CLAIM_IDLE_MS: '1000' });
    await allWritten(room);
    expect(await rows(room)).toBe(total);
  });
});
