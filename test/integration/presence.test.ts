// Presence on a real Redis: media pods report ended sessions on the shared stream
// (reportSessionEnded); the control API's consumer group removes each participant once the grace
// has passed, unless a newer join replaced that session; a speaker who vanished leaves the stage;
// malformed entries and ended rooms are acknowledged, and what a dead replica read but never
// acknowledged is claimed and applied.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { presenceKeys } from '../../common/src/contract/keys.js';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import {
  decodeSessionEnded,
  recordSessionStarted,
  reportSessionEnded,
} from '../../common/src/contract/presence.js';
import { LostPodSweeper } from '../../control-api/src/presence/sweeper.js';
import { UnconnectedJoinSweeper } from '../../control-api/src/presence/unconnected.js';
import { heartbeat } from '../../control-api/test/harness.js';
import type { Principal } from '../../control-api/src/auth/principal.js';
import { PRESENCE_GROUP, PresenceConsumer } from '../../control-api/src/presence/consumer.js';
import { controlRoomKeys } from '../../control-api/src/redis/keys.js';
import { RoomStore } from '../../control-api/src/stage/store.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { waitFor } from '../env/wait.js';

const ROOM = 'default/presence';
const GRACE_MS = 1_500;
const user = (id: string): Principal => ({ kind: 'user', id });
const host = user('host');

describe('presence: ended media sessions → participants leave after the grace', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: RoomStore;
  const consumers: PresenceConsumer[] = [];
  const readers: Redis[] = [];
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

  const consumer = (name: string, claimIdleMs?: number): PresenceConsumer => {
    const reader = redis.duplicate();
    readers.push(reader);
    const c = new PresenceConsumer(reader, store, log, {
      consumer: name,
      graceMs: GRACE_MS,
      blockMs: 200,
      ...(claimIdleMs !== undefined ? { claimIdleMs } : {}),
    });
    consumers.push(c);
    return c;
  };
  const join = (id: string, joinId: string) =>
    store.change(ROOM, 'join', user(id), id, JSON.stringify({ name: id, join: joinId }));
  const participants = async (): Promise<string[]> =>
    (await redis.hkeys(controlRoomKeys(ROOM).participants)).sort();
  const ended = (id: string, joinId: string, room = ROOM) =>
    reportSessionEnded(redis, {
      room,
      user: id,
      join: joinId,
      node: 'pod-a',
      reason: 'socket closed',
    });
  /** The newest entry of the ended-sessions stream, decoded. */
  const lastEnded = async () => {
    const [[, fields]] = (await redis.xrevrange(presenceKeys.ended, '+', '-', 'COUNT', 1)) as [
      [string, string[]],
    ];
    return decodeSessionEnded(fields);
  };
  const pending = async (): Promise<number> =>
    ((await redis.xpending(presenceKeys.ended, PRESENCE_GROUP)) as [number])[0];

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    store = new RoomStore(redis);
    await store.change(
      ROOM,
      'create',
      host,
      'host',
      JSON.stringify({ title: 'P', speakerLimit: 3 }),
    );
  });

  afterAll(async () => {
    for (const c of consumers) await c.stop();
    for (const r of readers) r.disconnect();
    redis?.disconnect();
    await server?.stop();
  });

  test('a vanished listener and speaker leave after the grace; a rejoined user stays', async () => {
    await join('host', 'h1');
    await join('alice', 'a1');
    await join('bob', 'b1');
    await join('bob', 'b2'); // bob reconnected: a new join replaced session b1
    await join('carol', 'c1');
    await store.change(ROOM, 'set-role', host, 'carol', 'speaker');
    const c = consumer('replica-1');
    c.start();

    await ended('alice', 'a1');
    await ended('bob', 'b1');
    await ended('carol', 'c1');
    // Within the grace nobody has left yet (the consumer holds the entries until then).
    await new Promise((r) => setTimeout(r, 300));
    expect(await participants()).toEqual(['alice', 'bob', 'carol', 'host']);

    await waitFor(async () => (await participants()).length === 2, {
      what: 'alice and carol to leave',
      timeoutMs: 10_000,
    });
    expect(await participants()).toEqual(['bob', 'host']);
    // Carol vanished from the stage: her speaker role went with her, like a leave.
    expect(await redis.hget(controlRoomKeys(ROOM).roles, 'carol')).toBeNull();
    await waitFor(async () => (await pending()) === 0, { what: 'all acked', timeoutMs: 5_000 });
    expect({ removed: c.removed, unchanged: c.unchanged }).toEqual({ removed: 2, unchanged: 1 });

    // The departures are room events (durable history via the write-behind stream).
    const log = await redis.xrange(controlRoomKeys(ROOM).log, '-', '+');
    const fields = (flat: string[]): Record<string, string> =>
      Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!]] : [])));
    const left = log.map(([, f]) => fields(f)).filter((e) => e.type === 'participant-left');
    expect(left.map((e) => [e.target, e.actor, e.role])).toEqual([
      ['alice', 'media-pod:pod-a', 'listener'],
      ['carol', 'media-pod:pod-a', 'speaker'],
    ]);
  });

  test('malformed entries and ended rooms are acknowledged without a change', async () => {
    const c = consumers[0]!;
    await redis.xadd(presenceKeys.ended, '*', 'room', ROOM, 'user', 'bob'); // no join, node, reason
    await ended('ghost', 'g1', 'default/never-existed');
    await waitFor(async () => (await pending()) === 0 && c.malformed === 1, {
      what: 'both entries handled',
      timeoutMs: 10_000,
    });
    expect(await participants()).toEqual(['bob', 'host']);
  });

  test('entries a dead replica read but never acknowledged are claimed and applied', async () => {
    await consumers[0]!.stop();
    await join('dave', 'd1');
    await ended('dave', 'd1');
    // A replica reads the entry, then dies before applying it.
    const dead = await redis.xreadgroup(
      'GROUP',
      PRESENCE_GROUP,
      'dead-replica',
      'COUNT',
      10,
      'STREAMS',
      presenceKeys.ended,
      '>',
    );
    expect(dead).not.toBeNull();
    expect(await pending()).toBe(1);
    const survivor = consumer('replica-2', 500);
    survivor.start();
    await waitFor(async () => !(await participants()).includes('dave'), {
      what: 'dave removed by the surviving replica',
      timeoutMs: 15_000,
    });
    await waitFor(async () => (await pending()) === 0, {
      what: 'claimed entry acked',
      timeoutMs: 5_000,
    });
    expect(survivor.removed).toBe(1);
  });

  test('the lost-pod sweep waits out lostAfterMs of missing heartbeats, restarting the wait when the pod beats again', async () => {
    const registry = new NodeRegistry(redis);
    const sweeper = new LostPodSweeper(redis, registry, log, { lostAfterMs: 5_000 });
    const t0 = Date.now();
    await recordSessionStarted(redis, { room: ROOM, user: 'zed', join: 'j-zed', node: 'pod-x' });
    await recordSessionStarted(redis, { room: ROOM, user: 'amy', join: 'j-amy', node: 'pod-x' });
    // A session that ended normally leaves the pod's hash with its report.
    await reportSessionEnded(redis, {
      room: ROOM,
      user: 'amy',
      join: 'j-amy',
      node: 'pod-x',
      reason: 'left',
    });
    expect(await redis.hkeys(presenceKeys.sessions('pod-x'))).toEqual(['j-zed']);
    expect(await sweeper.pass(t0)).toEqual([]); // missing since t0
    expect(await sweeper.pass(t0 + 4_000)).toEqual([]);
    await registry.beat(heartbeat('pod-x', 'eu-west'), t0 + 4_500); // back: live until t0 + 7.5 s
    expect(await sweeper.pass(t0 + 5_500)).toEqual([]);
    expect(await sweeper.pass(t0 + 8_000)).toEqual([]); // missing again, since t0 + 8 s
    expect(await sweeper.pass(t0 + 12_000)).toEqual([]);
    const before = await redis.xlen(presenceKeys.ended);
    expect(await sweeper.pass(t0 + 13_000)).toEqual(['pod-x']);
    expect(await lastEnded()).toEqual({
      room: ROOM,
      user: 'zed',
      join: 'j-zed',
      node: 'pod-x',
      reason: 'media pod lost',
    });
    expect(await redis.xlen(presenceKeys.ended)).toBe(before + 1);
    expect(await redis.exists(presenceKeys.sessions('pod-x'))).toBe(0);
    expect(await redis.sismember(presenceKeys.nodes, 'pod-x')).toBe(0);
    expect(await sweeper.pass(t0 + 20_000)).toEqual([]);
    await registry.leave('pod-x');
  });

  test('a join no pod ever recorded is reported ended once it can no longer connect, then leaves', async () => {
    const room = 'default/unconnected';
    await store.change(
      room,
      'create',
      host,
      'host',
      JSON.stringify({ title: 'U', speakerLimit: 3 }),
    );
    const now = Date.now();
    const joinAs = (id: string, record: Record<string, string>) =>
      store.change(room, 'join', user(id), id, JSON.stringify({ name: id, ...record }));
    const old = String(now - 200_000);
    await joinAs('ghost', { join: 'j-ghost', node: 'pod-a', joinedAt: old }); // never connected
    await joinAs('live', { join: 'j-live', node: 'pod-a', joinedAt: old }); // connected
    await recordSessionStarted(redis, { room, user: 'live', join: 'j-live', node: 'pod-a' });
    await joinAs('fresh', { join: 'j-fresh', node: 'pod-a', joinedAt: String(now) }); // may still
    await joinAs('legacy', { join: 'j-legacy', node: 'pod-a' }); // joined before joinedAt existed
    const sweeper = new UnconnectedJoinSweeper(redis, log, {
      maxConnectMs: 150_000,
      owner: 'test',
    });
    expect(await sweeper.pass(now)).toBe(1);
    expect(await lastEnded()).toEqual({
      room,
      user: 'ghost',
      join: 'j-ghost',
      node: 'pod-a',
      reason: 'never connected',
    });
    // The presence consumer applies it like any ended session: after the grace, ghost is gone.
    consumer('replica-u').start();
    const inRoom = async () => (await redis.hkeys(controlRoomKeys(room).participants)).sort();
    await waitFor(async () => !(await inRoom()).includes('ghost'), {
      what: 'the never-connected participant to leave',
      timeoutMs: 10_000,
    });
    expect(await inRoom()).toEqual(['fresh', 'legacy', 'live']);
    // The lease lets one replica sweep per interval: with another's lease held, no sweep.
    await joinAs('ghost2', { join: 'j-ghost2', node: 'pod-a', joinedAt: old });
    expect(await redis.set(presenceKeys.unconnectedSweepLease, 'b', 'PX', 60_000, 'NX')).toBe('OK');
    expect(await sweeper.tick(now)).toBeUndefined();
    await redis.del(presenceKeys.unconnectedSweepLease);
    expect(await sweeper.tick(now)).toBe(1);
    expect(await redis.get(presenceKeys.unconnectedSweepLease)).toBe('test');
    await redis.del(presenceKeys.unconnectedSweepLease);
  });
});
