// The operator ↔ media pod ↔ control API contract on a real Redis: heartbeats expire, drain requests
// come back with the beat, the routing table round-trips and rejects corrupt entries.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '../../../test/env/redis.js';
import { DecodeError } from './codec.js';
import type { NodeHeartbeat } from './heartbeat.js';
import { nodeKeys, registryKeys, roomId } from './keys.js';
import { NodeRegistry } from './node-registry.js';
import { RoutingTable } from './routing-table.js';
import type { ShardAssignmentRecord } from './routing.js';

const heartbeat = (node: string, overrides: Partial<NodeHeartbeat> = {}): NodeHeartbeat => ({
  node,
  region: 'eu-west',
  zone: 'eu-west-a',
  k8sNode: 'kwok-eu-west-a',
  announcedAddress: '203.0.113.7',
  signalingUrl: `ws://127.0.0.1:9000/${node}`,
  pipeUrl: 'http://127.0.0.1:9001',
  draining: false,
  startedAt: 1,
  sentAt: 2,
  seq: 3,
  workers: [
    {
      index: 0,
      alive: true,
      port: 40000,
      consumers: 10,
      producers: 1,
      routers: 2,
      cpuPercent: 3.5,
    },
  ],
  shards: [],
  ...overrides,
});

describe('contract on a real Redis', () => {
  let redisServer: RedisHandle;
  let redis: Redis;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  test('a heartbeat is live until its TTL passes, and a clean leave removes it at once', async () => {
    const registry = new NodeRegistry(redis, 3_000);
    const t0 = Date.now();
    await registry.beat(heartbeat('media-0'), t0);
    await registry.beat(heartbeat('media-1'), t0);
    expect((await registry.live(t0 + 1_000)).nodes.map((n) => n.node).sort()).toEqual([
      'media-0',
      'media-1',
    ]);
    // Judged by the beat's expiry score: past it, the node is gone even before Redis expires it.
    expect((await registry.live(t0 + 3_001)).nodes).toEqual([]);
    await registry.leave('media-0');
    expect((await registry.live(t0)).nodes.map((n) => n.node)).toEqual(['media-1']);
  });

  test('the beat returns the drain request the operator left for that node only', async () => {
    const registry = new NodeRegistry(redis);
    expect(await registry.beat(heartbeat('media-0'))).toBeUndefined();
    const request = { reason: 'scale-down', requestedAt: 5, deadline: 10 };
    await registry.requestDrain('media-0', request);
    expect(await registry.beat(heartbeat('media-0'))).toEqual(request);
    expect(await registry.beat(heartbeat('media-1'))).toBeUndefined();
    await registry.cancelDrain('media-0');
    expect(await registry.beat(heartbeat('media-0'))).toBeUndefined();
  });

  test('a corrupt registry entry is reported apart, not returned', async () => {
    const registry = new NodeRegistry(redis);
    await registry.beat(heartbeat('media-0'));
    await registry.beat(heartbeat('media-1'));
    await redis.set(registryKeys.node('media-1'), JSON.stringify({ node: 'media-1', workers: 7 }));
    const live = await registry.live();
    expect(live.nodes.map((n) => n.node)).toEqual(['media-0']);
    expect(live.invalid).toHaveLength(1);
    expect(live.invalid[0]!.node).toBe('media-1');
    expect(live.invalid[0]!.error.message).toMatch(/invalid heartbeat of media-1: .*region/);
  });

  test('routes and assignments round-trip; re-applying the same assignment stays quiet', async () => {
    const table = new RoutingTable(redis);
    const room = roomId('default', 'town-hall');
    const shard = {
      id: 'e1',
      role: 'edge' as const,
      region: 'eu-west',
      node: 'media-1',
      worker: 0,
      listeners: 0,
      state: 'Pending' as const,
      from: 'o0',
    };
    await table.putRoute({
      room,
      generation: 1,
      phase: 'Scheduled',
      region: 'eu-west',
      speakerLimit: 10,
      listenersPerShard: 500,
      shards: [shard],
      updatedAt: 1,
    });
    expect((await table.getRoute(room))?.shards).toEqual([shard]);
    expect(await table.routedRooms()).toEqual([room]);

    const subscriber = redis.duplicate();
    const notices: string[] = [];
    await subscriber.subscribe(nodeKeys('media-1').assignmentsChanged);
    subscriber.on('message', (_channel: string, message: string) => notices.push(message));
    const record: ShardAssignmentRecord = {
      room,
      shard,
      origin: { shard: 'o0', node: 'media-0', worker: 1 },
      speakerLimit: 10,
      assignedAt: 1,
    };
    await table.assign('media-1', record);
    await table.assign('media-1', { ...record, assignedAt: 2 }); // same decision again
    await table.unassign('media-1', room, 'e1');
    await table.unassign('media-1', room, 'e1'); // already gone
    await redis.ping(); // pub/sub messages delivered before this reply's successor
    await new Promise((r) => setTimeout(r, 50));
    expect(notices).toEqual([room, room]);
    subscriber.disconnect();

    await table.assign('media-1', record);
    await redis.hset(nodeKeys('media-1').assignments, 'bad', '{');
    const { records, invalid } = await table.assignments('media-1');
    expect(records).toEqual([record]);
    expect(invalid.map((i) => i.field)).toEqual(['bad']);
    expect(invalid[0]!.error).toBeInstanceOf(DecodeError);

    await table.deleteRoute(room);
    expect(await table.getRoute(room)).toBeUndefined();
    expect(await table.routedRooms()).toEqual([]);
  });
});
