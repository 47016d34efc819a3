// The AudioRoom controller: informers for AudioRooms and MediaRegions, a heartbeat watch on the
// node registry, and a runtime Controller whose reconciles are batched into global passes. A
// reconcile marks its room dirty and waits for the next pass; the pass schedules every room and
// writes what changed; the reconcile returns that room's outcome (error → backoff, unschedulable →
// requeue with backoff, else done).
import { CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { NodeRegistry } from '../../../../common/src/contract/node-registry.js';
import type { RoutingTable } from '../../../../common/src/contract/routing-table.js';
import { createLogger, type Logger } from '../../../../common/src/logger.js';
import { realClock, type Clock, type Timer } from '../../runtime/clock.js';
import { Controller, type Result } from '../../runtime/controller.js';
import { EventRecorder } from '../../runtime/events.js';
import { Informer } from '../../runtime/informer.js';
import { objectKey } from '../../runtime/keys.js';
import { kubeListWatch, type KubeList } from '../../runtime/kube-source.js';
import { HeartbeatWatch } from './heartbeat-watch.js';
import { kubeRoomWriter, type RoomWriter } from './kube-writer.js';
import { passMetrics } from './metrics.js';
import { keepAliveKubeConfig } from './connections.js';
import { PassEngine, type PassStats, type RoomResult, type WriteMode } from './pass.js';
import {
  CONTROLLER_NAME,
  REGION_RESOURCE,
  ROOM_RESOURCE,
  type AudioRoom,
  type MediaRegionObject,
} from './types.js';

export interface AudioRoomControllerDeps {
  kubeConfig: KubeConfig;
  registry: NodeRegistry;
  routing: RoutingTable;
  metrics: Registry;
  log?: Logger;
  /** Watch one namespace (rooms and regions); all when unset. */
  namespace?: string;
  /** Full resync: every route re-applied from status, stale routes removed. Default 30 s. */
  resyncMs?: number;
  /** NodeRegistry.live() poll interval. Default 300 ms. */
  heartbeatPollMs?: number;
  /** A vanished node stays in the snapshot this long. Default 1.5 s. */
  nodeGraceMs?: number;
  /** Edges younger than this are not retired. Default 60 s. */
  minEdgeAgeMs?: number;
  /** Reconciles batched into one pass. Default 64. */
  maxConcurrentReconciles?: number;
  /** Rooms written at once. Default 32. */
  writeConcurrency?: number;
  /**
   * 'pipelined' (default): passes queue their writes (one in flight per room) and do not wait;
   * the finalizer apply goes out with the status apply. 'serial': the previous behaviour (a pass
   * waits for its writes; finalizer merge patch, then status; a new connection per request).
   * Default from AMPHI_AUDIOROOM_WRITES when set (benchmarks compare both).
   */
  writeMode?: WriteMode;
  /** For Events' reportingInstance. */
  identity?: string;
  /** Replaces the Kubernetes writes (tests, benchmarks). */
  writer?: RoomWriter;
  clock?: Clock;
}

export interface AudioRoomController {
  controller: Controller;
  informers: { rooms: Informer<AudioRoom>; regions: Informer<MediaRegionObject> };
  heartbeats: HeartbeatWatch;
  engine: PassEngine;
  /** Statistics of the last pass. */
  lastPass(): PassStats;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Waiter {
  resolve: (r: RoomResult | undefined) => void;
  reject: (e: unknown) => void;
}

/** Serialises passes and batches the rooms that asked for one. */
class PassRunner {
  #requested = new Map<string, Waiter[]>();
  #pending = false;
  #force = false;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly engine: PassEngine,
    private readonly log: Logger,
    private readonly ready: () => Promise<void>,
  ) {}

  request(id: string): Promise<RoomResult | undefined> {
    if (this.#stopped) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      let list = this.#requested.get(id);
      if (list === undefined) this.#requested.set(id, (list = []));
      list.push({ resolve, reject });
      this.trigger();
    });
  }

  trigger(force = false): void {
    if (this.#stopped) return;
    this.#pending = true;
    if (force) this.#force = true;
    this.#running ??= this.#loop().finally(() => (this.#running = undefined));
  }

  async #loop(): Promise<void> {
    await this.ready();
    while (this.#pending && !this.#stopped) {
      // Let the other workers' keys join this pass.
      await new Promise((r) => setTimeout(r, 5));
      this.#pending = false;
      const waiting = this.#requested;
      this.#requested = new Map();
      const forceRoutes = this.#force;
      this.#force = false;
      try {
        const { results, writes } = await this.engine.pass({
          requested: new Set(waiting.keys()),
          forceRoutes,
        });
        // Pipelined writes: a room's reconcile returns once its writes are done; the next pass
        // does not wait for them (serial mode: they are done already).
        for (const [id, list] of waiting) {
          const settle = (): void => {
            for (const w of list) w.resolve(results.get(id));
          };
          const pending = writes.get(id);
          if (pending) void pending.then(settle);
          else settle();
        }
      } catch (err) {
        this.log.error({ err }, 'pass failed');
        if (forceRoutes) this.#force = true;
        for (const list of waiting.values()) for (const w of list) w.reject(err);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.engine.idle();
    for (const list of this.#requested.values()) for (const w of list) w.resolve(undefined);
    this.#requested.clear();
  }
}

function listPath(resource: { group: string; version: string; plural: string }, ns?: string) {
  const base = `/apis/${resource.group}/${resource.version}`;
  return ns ? `${base}/namespaces/${ns}/${resource.plural}` : `${base}/${resource.plural}`;
}

export function createAudioRoomController(deps: AudioRoomControllerDeps): AudioRoomController {
  const clock = deps.clock ?? realClock;
  const log = (deps.log ?? createLogger('operator')).child({ controller: CONTROLLER_NAME });
  const env = process.env.AMPHI_AUDIOROOM_WRITES;
  const writeMode: WriteMode =
    deps.writeMode ?? (env === 'serial' || env === 'pipelined' ? env : 'pipelined');
  const custom = deps.kubeConfig.makeApiClient(CustomObjectsApi);
  // Writes reuse keep-alive connections (client-node opens one per request otherwise).
  const writes =
    writeMode === 'serial'
      ? custom
      : keepAliveKubeConfig(deps.kubeConfig).makeApiClient(CustomObjectsApi);
  const ns = deps.namespace;
  const lister =
    <T>(resource: typeof ROOM_RESOURCE | typeof REGION_RESOURCE) =>
    async (): Promise<KubeList<T>> =>
      (ns
        ? await custom.listNamespacedCustomObject({ ...resource, namespace: ns })
        : await custom.listClusterCustomObject({ ...resource })) as KubeList<T>;

  const resyncMs = deps.resyncMs ?? 30_000;
  const rooms = new Informer<AudioRoom>({
    name: 'audiorooms',
    source: kubeListWatch(
      deps.kubeConfig,
      listPath(ROOM_RESOURCE, ns),
      lister<AudioRoom>(ROOM_RESOURCE),
    ),
    resyncPeriodMs: 0,
    clock,
    logger: log,
  });
  const regions = new Informer<MediaRegionObject>({
    name: 'mediaregions',
    source: kubeListWatch(
      deps.kubeConfig,
      listPath(REGION_RESOURCE, ns),
      lister<MediaRegionObject>(REGION_RESOURCE),
    ),
    resyncPeriodMs: 0,
    clock,
    logger: log,
  });

  const events = new EventRecorder({
    api: deps.kubeConfig.makeApiClient(EventsV1Api),
    reportingController: 'amphi.dev/operator',
    reportingInstance: deps.identity ?? 'amphi-operator',
    clock,
    logger: log,
  });

  const controller = new Controller({
    name: CONTROLLER_NAME,
    registry: deps.metrics,
    logger: log,
    clock,
    maxConcurrentReconciles: deps.maxConcurrentReconciles ?? 64,
    reconcile: async (key): Promise<Result> => {
      const result = await runner.request(key);
      if (result?.error !== undefined) throw result.error;
      if (result?.unschedulable) return { requeue: true };
      return {};
    },
  });
  const heartbeats = new HeartbeatWatch({
    registry: deps.registry,
    intervalMs: deps.heartbeatPollMs ?? 300,
    graceMs: deps.nodeGraceMs ?? 1500,
    clock,
    log,
    onChange: (changes) => {
      if (changes.nodes) {
        for (const key of rooms.keys()) controller.add(key);
        if (changes.appeared.length > 0) runner.trigger(true);
        else runner.trigger();
      } else {
        for (const id of changes.rooms) if (rooms.get(id)) controller.add(id);
      }
    },
  });

  const engine = new PassEngine({
    rooms: () => rooms.list(),
    regions: () => regions.list(),
    heartbeats: () => heartbeats.heartbeats(),
    writer:
      deps.writer ??
      kubeRoomWriter(writes, {
        addFinalizer: writeMode === 'serial' ? 'merge-patch' : 'apply',
      }),
    routing: deps.routing,
    events,
    clock,
    log,
    minEdgeAgeMs: deps.minEdgeAgeMs ?? 60_000,
    writeConcurrency: deps.writeConcurrency ?? 32,
    writeMode,
    wake: (id, ms) => controller.queue.addAfter(id, ms),
    retry: (id) => controller.queue.addRateLimited(id),
    metrics: passMetrics(deps.metrics),
  });

  // Passes wait until the registry has been read for a heartbeat interval when it looked empty:
  // after a Redis loss the pods re-register within one beat, and an empty snapshot would move
  // every room.
  const ready = async (): Promise<void> => {
    while (!heartbeats.polled) await new Promise((r) => setTimeout(r, 50));
    if (heartbeats.heartbeats().length > 0) return;
    const wait = heartbeats.firstPollAt + 1100 - clock.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const runner = new PassRunner(engine, log, ready);

  controller.watch(rooms, {
    onAdd: (o) => controller.add(objectKey(o)),
    onUpdate: (before, after) => {
      const changed =
        before.metadata.generation !== after.metadata.generation ||
        before.metadata.deletionTimestamp !== after.metadata.deletionTimestamp ||
        (before.metadata.finalizers ?? []).join() !== (after.metadata.finalizers ?? []).join();
      if (changed) controller.add(objectKey(after));
    },
    onDelete: (o) => {
      engine.forget(objectKey(o));
      // Clean up routes of a room deleted without our finalizer.
      controller.add(objectKey(o));
    },
  });
  controller.watch(regions, {
    onAdd: () => runner.trigger(),
    onUpdate: () => runner.trigger(),
    onDelete: () => runner.trigger(),
  });

  let resync: Timer | undefined;
  let stopped = false;
  const scheduleResync = (): void => {
    if (stopped || resyncMs <= 0) return;
    resync = clock.after(resyncMs, () => {
      runner.trigger(true);
      scheduleResync();
    });
  };

  return {
    controller,
    informers: { rooms, regions },
    heartbeats,
    engine,
    lastPass: () => engine.lastStats,
    async start() {
      rooms.start();
      regions.start();
      await heartbeats.start();
      await controller.start();
      runner.trigger(true); // the first pass re-applies every route from status
      scheduleResync();
      log.info({ namespace: ns ?? '(all)', resyncMs }, 'AudioRoom controller started');
    },
    async stop() {
      stopped = true;
      resync?.cancel();
      heartbeats.stop();
      await runner.stop();
      await controller.stop();
      await Promise.all([rooms.stop(), regions.stop()]);
      log.info('AudioRoom controller stopped');
    },
  };
}
