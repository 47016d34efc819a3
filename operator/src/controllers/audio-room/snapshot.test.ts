import { describe, expect, it } from '@jest/globals';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import { schedule } from '../../scheduler/place.js';
import { assignmentsOf, routeOf } from './routes.js';
import { buildSnapshot } from './snapshot.js';
import { desiredStatus, sameStatus } from './status.js';
import type { AudioRoom, MediaRegionObject } from './types.js';

const region = (name: string): MediaRegionObject => ({
  metadata: { name, namespace: 'amphi' },
  spec: {
    region: name,
    mediaPod: { image: 'x', workersPerPod: 2, basePort: 40000 },
    addresses: { policy: 'NodeExternalIP' },
    capacity: {
      listenersPerWorker: 100,
      targetUtilizationPercent: 70,
      highWatermarkPercent: 80,
      lowWatermarkPercent: 30,
    },
    minReplicas: 1,
    maxReplicas: 3,
    drain: { deadlineSeconds: 60 },
  },
});

const room = (name: string, over: Partial<AudioRoom> = {}): AudioRoom => ({
  apiVersion: 'amphi.dev/v1alpha1',
  kind: 'AudioRoom',
  metadata: { name, namespace: 'ns', generation: 1 },
  spec: {
    title: name,
    regions: ['eu'],
    sharding: { listenersPerShard: 10, maxShards: 5 },
    speakerLimit: 2,
  },
  ...over,
});

function hb(node: string, over: Partial<NodeHeartbeat> = {}): NodeHeartbeat {
  return {
    node,
    region: 'eu',
    zone: 'eu-a',
    k8sNode: `k8s-${node}`,
    announcedAddress: '10.0.0.1',
    signalingUrl: 'ws://x',
    pipeUrl: 'http://x',
    draining: false,
    startedAt: 1,
    sentAt: 2,
    seq: 1,
    workers: [0, 1].map((index) => ({
      index,
      alive: true,
      port: 40000 + index,
      consumers: 0,
      producers: 0,
      routers: 0,
      cpuPercent: 0,
    })),
    shards: [],
    ...over,
  };
}

describe('snapshot building', () => {
  it('takes listeners and states from heartbeats and worker load from worker reports', () => {
    const r = room('a', {
      status: {
        shards: [
          {
            id: 'o1',
            role: 'origin',
            region: 'eu',
            node: 'p1',
            worker: 0,
            listeners: 0,
            state: 'Pending',
          },
        ],
      },
    });
    const beat = hb('p1', {
      shards: [
        {
          room: 'ns/a',
          shard: 'o1',
          role: 'origin',
          worker: 0,
          state: 'Ready',
          listeners: 7,
          speakers: 1,
        },
      ],
    });
    beat.workers[0]!.consumers = 7;
    beat.workers[0]!.producers = 1;
    beat.workers[1]!.cpuPercent = 50;
    const { snapshot } = buildSnapshot({
      rooms: [r],
      regions: [region('eu')],
      heartbeats: [beat],
      now: 5,
    });
    expect(snapshot.rooms[0]).toMatchObject({
      id: 'ns/a',
      regions: ['eu'],
      listenersPerShard: 10,
      maxShards: 5,
      speakerLimit: 2,
      listeners: 7,
      shards: [{ id: 'o1', listeners: 7, state: 'Ready' }],
    });
    expect(snapshot.nodes[0]!.workers).toEqual([
      { index: 0, alive: true, load: { listeners: 7, producers: 1, cpuPercent: 0 } },
      { index: 1, alive: true, load: { listeners: 0, producers: 0, cpuPercent: 50 } },
    ]);
    expect(snapshot.regions[0]!.capacity.listenersPerWorker).toBe(100);
  });

  it('a shard its live pod does not report is Pending with no listeners; a draining pod marks it Draining', () => {
    const shards = [
      {
        id: 'o1',
        role: 'origin' as const,
        region: 'eu',
        node: 'p1',
        worker: 0,
        listeners: 5,
        state: 'Ready' as const,
      },
      {
        id: 'e2',
        role: 'edge' as const,
        region: 'eu',
        node: 'p2',
        worker: 0,
        listeners: 3,
        state: 'Ready' as const,
      },
    ];
    const { snapshot } = buildSnapshot({
      rooms: [room('a', { status: { shards } })],
      regions: [region('eu')],
      heartbeats: [hb('p1'), hb('p2', { draining: true })],
      createdAt: (_r, s) => (s === 'e2' ? 42 : undefined),
      now: 100,
    });
    expect(snapshot.rooms[0]!.shards).toEqual([
      { ...shards[0], listeners: 0, state: 'Pending' },
      { ...shards[1], listeners: 0, state: 'Draining', createdAt: 42 },
    ]);
  });

  it('a new room is placed in its region; status, route and assignments follow', () => {
    const r = room('a');
    const built = buildSnapshot({
      rooms: [r],
      regions: [region('eu'), region('us')],
      heartbeats: [hb('p1'), hb('q1', { region: 'us' })],
      now: 1,
    });
    const decisions = schedule(built.snapshot);
    const shards = decisions.assignments.get('ns/a')!;
    const status = desiredStatus(r, shards, built.index, undefined, 1000);
    expect(status).toMatchObject({
      phase: 'Scheduled',
      region: 'eu',
      shardCount: 1,
      listeners: 0,
      observedGeneration: 1,
      shards: [{ id: 'o1', role: 'origin', node: 'p1', state: 'Pending' }],
    });
    expect(status.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({
      status: 'True',
      reason: 'Placed',
    });
    expect(sameStatus({ ...status }, status)).toBe(true);
    const route = routeOf(r, status, 7);
    expect(route).toMatchObject({
      room: 'ns/a',
      region: 'eu',
      speakerLimit: 2,
      listenersPerShard: 10,
    });
    expect(assignmentsOf(r, status.shards!, 7)).toEqual([
      {
        node: 'p1',
        record: { room: 'ns/a', shard: status.shards![0], speakerLimit: 2, assignedAt: 7 },
      },
    ]);
  });

  it('no capacity gives Scheduled=False with the scheduler reason', () => {
    const r = room('a', { spec: { ...room('a').spec, regions: ['eu'] } });
    const built = buildSnapshot({ rooms: [r], regions: [region('eu')], heartbeats: [], now: 1 });
    const decisions = schedule(built.snapshot);
    const u = decisions.rooms[0]!.unschedulable;
    const status = desiredStatus(r, [], built.index, u, 1000);
    expect(status.phase).toBe('Pending');
    expect(status.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({
      status: 'False',
      reason: 'NoLiveNodes',
    });
  });

  it('the room is Live once the origin reports Ready; edges are routed from the origin', () => {
    const shards = [
      {
        id: 'o1',
        role: 'origin' as const,
        region: 'eu',
        node: 'p1',
        worker: 0,
        listeners: 0,
        state: 'Pending' as const,
      },
      {
        id: 'e2',
        role: 'edge' as const,
        region: 'eu',
        node: 'p1',
        worker: 1,
        listeners: 0,
        state: 'Pending' as const,
      },
    ];
    const r = room('a', { status: { shards } });
    const beat = hb('p1', {
      shards: [
        {
          room: 'ns/a',
          shard: 'o1',
          role: 'origin',
          worker: 0,
          state: 'Ready',
          listeners: 4,
          speakers: 2,
        },
        {
          room: 'ns/a',
          shard: 'e2',
          role: 'edge',
          worker: 1,
          state: 'Ready',
          listeners: 6,
          speakers: 2,
        },
      ],
    });
    const built = buildSnapshot({
      rooms: [r],
      regions: [region('eu')],
      heartbeats: [beat],
      now: 1,
    });
    const status = desiredStatus(r, built.snapshot.rooms[0]!.shards, built.index, undefined, 1000);
    expect(status).toMatchObject({ phase: 'Live', listeners: 10, speakers: 2, shardCount: 2 });
    const [, edge] = assignmentsOf(r, status.shards!, 1);
    expect(edge!.record).toMatchObject({
      shard: { id: 'e2', from: 'o1' },
      origin: { shard: 'o1', node: 'p1', worker: 0 },
    });
  });
});
