// Small builders for scheduler tests: a region policy of 500 listeners per worker at 70/80/30 %,
// so a worker's budget is 350 units and, with listenersPerShard 500, a room adds an edge above 400
// listeners per serving shard, sizes edges for 350 and reserves at least 50 (+10 speakers).
import type {
  ClusterSnapshot,
  Decisions,
  NodeSnapshot,
  RegionSnapshot,
  RoomAction,
  RoomSnapshot,
  ShardSnapshot,
  WorkerLoad,
} from './types.js';

export function region(name: string, over: Partial<RegionSnapshot> = {}): RegionSnapshot {
  return {
    name,
    capacity: {
      listenersPerWorker: 500,
      targetUtilizationPercent: 70,
      highWatermarkPercent: 80,
      lowWatermarkPercent: 30,
    },
    ...over,
  };
}

export interface NodeOptions {
  region?: string;
  zone?: string;
  k8sNode?: string;
  workers?: number;
  draining?: boolean;
  /** Per worker index: its reported load (listeners only when a number). */
  load?: Record<number, number | Partial<WorkerLoad>>;
  dead?: number[];
}

export function node(id: string, o: NodeOptions = {}): NodeSnapshot {
  const count = o.workers ?? 4;
  return {
    id,
    region: o.region ?? 'eu',
    zone: o.zone ?? 'a',
    k8sNode: o.k8sNode ?? `k8s-${id}`,
    draining: o.draining ?? false,
    workers: Array.from({ length: count }, (_, index) => {
      const l = o.load?.[index];
      const load: WorkerLoad =
        typeof l === 'number'
          ? { listeners: l, producers: 0, cpuPercent: 0 }
          : { listeners: 0, producers: 0, cpuPercent: 0, ...l };
      return { index, alive: !(o.dead ?? []).includes(index), load };
    }),
  };
}

export function room(id: string, over: Partial<RoomSnapshot> = {}): RoomSnapshot {
  return {
    id,
    regions: [],
    listenersPerShard: 500,
    maxShards: 50,
    speakerLimit: 10,
    shards: [],
    listeners: 0,
    ...over,
  };
}

export function shard(
  id: string,
  role: 'origin' | 'edge',
  nodeId: string,
  worker: number,
  listeners = 0,
  over: Partial<ShardSnapshot> = {},
): ShardSnapshot {
  return { id, role, region: 'eu', node: nodeId, worker, listeners, state: 'Ready', ...over };
}

export function cluster(
  nodes: NodeSnapshot[],
  rooms: RoomSnapshot[],
  regions: RegionSnapshot[] = [region('eu')],
): ClusterSnapshot {
  return { regions, nodes, rooms };
}

export function actionsOf(d: Decisions, roomId: string): RoomAction[] {
  return d.rooms.find((r) => r.roomId === roomId)?.actions ?? [];
}

/** "node/worker" of every shard placed in the pass. */
export function placed(d: Decisions): string[] {
  return d.rooms.flatMap((r) =>
    r.actions.flatMap((a) =>
      a.kind === 'placeOrigin' || a.kind === 'addEdge'
        ? [`${a.placement.node}/${a.placement.worker}`]
        : [],
    ),
  );
}

export function kinds(d: Decisions, roomId: string): string[] {
  return actionsOf(d, roomId).map((a) =>
    a.kind === 'retireShard' ? `retire:${a.shardId}:${a.reason}` : a.kind,
  );
}

/** A deterministic PRNG (mulberry32) for property-style tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The next pass's snapshot, as if the media pods realised the decisions: shards Ready, each
 * room's listeners spread evenly over its shards, workers reporting the listeners they carry.
 */
export function advance(
  s: ClusterSnapshot,
  d: Decisions,
  listeners: Record<string, number> = {},
): ClusterSnapshot {
  const perWorker = new Map<string, number>();
  const rooms = s.rooms.map((r) => {
    const total = listeners[r.id] ?? r.listeners;
    const shards = d.assignments.get(r.id) ?? [];
    const each = Math.floor(total / Math.max(1, shards.length));
    const spread = shards.map((x, i) => ({
      ...x,
      state: 'Ready' as const,
      listeners: i === 0 ? total - each * (shards.length - 1) : each,
    }));
    for (const x of spread) {
      const key = `${x.node}/${x.worker}`;
      perWorker.set(key, (perWorker.get(key) ?? 0) + x.listeners);
    }
    return { ...r, listeners: total, shards: spread };
  });
  const nodes = s.nodes.map((n) => ({
    ...n,
    workers: n.workers.map((w) => ({
      ...w,
      load: { ...w.load, listeners: perWorker.get(`${n.id}/${w.index}`) ?? 0 },
    })),
  }));
  return { ...s, nodes, rooms };
}
