import { describe, expect, it } from '@jest/globals';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { RoutingTable } from '../../../../common/src/contract/routing-table.js';
import type { Logger } from '../../../../common/src/logger.js';
import type { AudioRoomStatus } from '../../../../common/src/crd/audio-room.js';
import type { Clock } from '../../runtime/clock.js';
import type { RoomWriter } from './kube-writer.js';
import { PassEngine, type WriteMode } from './pass.js';
import { ROOM_FINALIZER, type AudioRoom, type MediaRegionObject } from './types.js';

const region: MediaRegionObject = {
  metadata: { name: 'eu', namespace: 'amphi' },
  spec: {
    region: 'eu',
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
};

const room = (name: string): AudioRoom => ({
  apiVersion: 'amphi.dev/v1alpha1',
  kind: 'AudioRoom',
  metadata: { name, namespace: 'ns', generation: 1, resourceVersion: '1' },
  spec: {
    title: name,
    regions: ['eu'],
    sharding: { listenersPerShard: 10, maxShards: 5 },
    speakerLimit: 2,
  },
});

const heartbeat = (node: string): NodeHeartbeat => ({
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
});

/** Writes that wait until released; counts what is in flight per room. */
class GatedWriter implements RoomWriter {
  readonly concurrentFinalizer: boolean;
  readonly calls: string[] = [];
  readonly inFlight = new Map<string, number>();
  maxPerRoom = 0;
  rv = 100;
  /** The apiserver's copy of each room once written. */
  readonly server = new Map<string, AudioRoom>();
  readonly #gates: Array<() => void> = [];

  constructor(concurrentFinalizer: boolean) {
    this.concurrentFinalizer = concurrentFinalizer;
  }

  async #gate<T>(room: AudioRoom, kind: string, make: () => T): Promise<T> {
    const id = room.metadata.name;
    this.calls.push(`${kind} ${id}`);
    const n = (this.inFlight.get(id) ?? 0) + 1;
    this.inFlight.set(id, n);
    this.maxPerRoom = Math.max(this.maxPerRoom, n);
    await new Promise<void>((r) => this.#gates.push(r));
    this.inFlight.set(id, this.inFlight.get(id)! - 1);
    return make();
  }

  #store(room: AudioRoom, change: (r: AudioRoom) => AudioRoom): AudioRoom {
    const id = room.metadata.name;
    const current = this.server.get(id) ?? room;
    const next = change({ ...current, metadata: { ...current.metadata } });
    next.metadata.resourceVersion = String(++this.rv);
    this.server.set(id, next);
    return next;
  }

  applyStatus(room: AudioRoom, status: AudioRoomStatus): Promise<AudioRoom> {
    return this.#gate(room, 'status', () => this.#store(room, (r) => ({ ...r, status })));
  }

  addFinalizer(room: AudioRoom): Promise<AudioRoom> {
    return this.#gate(room, 'finalizer', () =>
      this.#store(room, (r) => {
        r.metadata.finalizers = [ROOM_FINALIZER];
        return r;
      }),
    );
  }

  removeFinalizer(room: AudioRoom): Promise<AudioRoom> {
    return this.#gate(room, 'release', () => room);
  }

  get waiting(): number {
    return this.#gates.length;
  }

  async releaseAll(): Promise<void> {
    for (let i = 0; i < 100 && (this.#gates.length > 0 || i < 3); i++) {
      for (const g of this.#gates.splice(0)) g();
      await new Promise((r) => setImmediate(r));
    }
  }
}

function routing(): RoutingTable & { routes: Map<string, unknown> } {
  const routes = new Map<string, unknown>();
  return {
    routes,
    assign: () => Promise.resolve(),
    unassign: () => Promise.resolve(),
    putRoute: (r: { room: string }) => {
      routes.set(r.room, r);
      return Promise.resolve();
    },
    getRoute: () => Promise.resolve(undefined),
    deleteRoute: () => Promise.resolve(),
    routedRooms: () => Promise.resolve([...routes.keys()]),
  } as unknown as RoutingTable & { routes: Map<string, unknown> };
}

const log = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Logger;
const clock = { now: () => 1000, after: () => ({ cancel() {} }) } as unknown as Clock;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function engine(mode: WriteMode, writer: RoomWriter, rooms: () => AudioRoom[]) {
  const table = routing();
  const retried: string[] = [];
  const e = new PassEngine({
    rooms,
    regions: () => [region],
    heartbeats: () => [heartbeat('p1'), heartbeat('p2')],
    writer,
    routing: table,
    clock,
    log,
    minEdgeAgeMs: 60_000,
    writeConcurrency: 2,
    writeMode: mode,
    wake: () => undefined,
    retry: (id) => retried.push(id),
  });
  return { e, table, retried };
}

const request = (...ids: string[]) => ({
  requested: new Set(ids.map((n) => `ns/${n}`)),
  forceRoutes: false,
});

describe('PassEngine, pipelined writes', () => {
  it('a pass does not wait for writes; later passes see them (no second write, no re-placement)', async () => {
    const writer = new GatedWriter(true);
    const informed = [room('a'), room('b'), room('c')];
    const { e, table } = engine('pipelined', writer, () => informed);

    const first = await e.pass(request('a', 'b', 'c'));
    expect(first.writes.size).toBe(3);
    await tick();
    // Concurrency 2: two rooms in flight, finalizer and status together for each.
    expect(writer.waiting).toBe(4);

    // The informer has not caught up: the next passes see the pending overlay and write nothing.
    for (let i = 0; i < 3; i++) {
      const again = await e.pass(request('a'));
      expect(e.lastStats.written).toBe(0);
      // The reconcile of `a` still waits for the write of the first pass.
      expect(again.writes.has('ns/a')).toBe(true);
    }

    // A room created meanwhile is written by the next pass, without waiting for the others.
    informed.push(room('d'));
    await e.pass(request('d'));
    expect(e.lastStats.written).toBe(1);

    let settled = 0;
    for (const p of first.writes.values()) void p.then(() => settled++);
    await writer.releaseAll();
    await e.idle();
    expect(settled).toBe(3);
    expect(writer.maxPerRoom).toBeLessThanOrEqual(2); // finalizer + status of one room write
    const statusWrites = writer.calls.filter((c) => c.startsWith('status'));
    expect(statusWrites.sort()).toEqual(['status a', 'status b', 'status c', 'status d']);
    expect([...table.routes.keys()].sort()).toEqual(['ns/a', 'ns/b', 'ns/c', 'ns/d']);

    // Written and assumed: nothing more to write, even though the informer is still stale.
    await e.pass(request());
    expect(e.lastStats.written).toBe(0);
  });

  it('a failed write drops the overlay: the room is retried and the next pass writes it again', async () => {
    let fail = true;
    const writer: RoomWriter = {
      concurrentFinalizer: true,
      applyStatus: async (r, status) => {
        if (fail) throw new Error('503');
        return { ...r, metadata: { ...r.metadata, resourceVersion: '9' }, status };
      },
      addFinalizer: async (r) => ({
        ...r,
        metadata: { ...r.metadata, finalizers: [ROOM_FINALIZER], resourceVersion: '8' },
      }),
      removeFinalizer: async (r) => r,
    };
    const { e, retried } = engine('pipelined', writer, () => [room('a')]);
    const out = await e.pass(request('a'));
    await out.writes.get('ns/a');
    expect(out.results.get('ns/a')?.error).toBeInstanceOf(Error);
    expect(retried).toEqual(['ns/a']);
    fail = false;
    await e.pass(request('a'));
    expect(e.lastStats.written).toBe(1);
    await e.idle();
  });

  it('serial mode: the finalizer goes first, then status; run() waits for both', async () => {
    const writer = new GatedWriter(false);
    const { e } = engine('serial', writer, () => [room('a')]);
    let done = false;
    const run = e.run(request('a')).then(() => (done = true));
    await tick();
    expect(writer.calls).toEqual(['finalizer a']);
    await writer.releaseAll();
    await run;
    expect(done).toBe(true);
    expect(writer.calls).toEqual(['finalizer a', 'status a']);
  });
});
