// A synthetic cluster for the scheduler benchmark, from a seeded PRNG: regions, media pods and
// rooms with a heavy-tailed listener distribution, and a stand-in for the media pods that realises
// decisions (so incremental passes see the load they caused).
import type {
  ClusterSnapshot,
  Decisions,
  NodeSnapshot,
  RegionSnapshot,
  RoomSnapshot,
  ShardSnapshot,
} from '../../operator/src/scheduler/index.js';

/** mulberry32: small, fast, good enough for workloads. */
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

/** Standard normal (Box–Muller). */
export function normal(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

export interface SyntheticOptions {
  seed: number;
  regions: number;
  nodesPerRegion: number;
  workersPerNode: number;
  zonesPerRegion: number;
  rooms: number;
  /** Rooms given 10k–30k listeners (the far end of the tail). */
  hugeRooms: number;
  listenersPerWorker: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  seed: 20240601,
  regions: 5,
  nodesPerRegion: 100,
  workersPerNode: 4,
  zonesPerRegion: 3,
  rooms: 10_000,
  hugeRooms: 12,
  listenersPerWorker: 1000,
};

const REGION_SITES = [
  { name: 'us-east', latitude: 39.0, longitude: -77.5 },
  { name: 'eu-west', latitude: 53.3, longitude: -6.3 },
  { name: 'ap-south', latitude: 19.1, longitude: 72.9 },
  { name: 'us-west', latitude: 45.6, longitude: -122.7 },
  { name: 'eu-central', latitude: 50.1, longitude: 8.7 },
  { name: 'ap-northeast', latitude: 35.7, longitude: 139.7 },
  { name: 'sa-east', latitude: -23.5, longitude: -46.6 },
];
/** How popular each region is as a room's first choice (uneven on purpose). */
const POPULARITY = [0.26, 0.22, 0.2, 0.17, 0.15, 0.06, 0.04];

/** The first `k` of `n` weighted choices, without repeats. */
function pickRegions(rnd: () => number, names: string[], k: number): string[] {
  const out: string[] = [];
  const weights = names.map((_, i) => POPULARITY[i] ?? 0.02);
  while (out.length < k) {
    const total = weights.reduce((a, b) => a + b, 0);
    let x = rnd() * total;
    let i = 0;
    while (i < weights.length - 1 && x >= weights[i]!) x -= weights[i++]!;
    out.push(names[i]!);
    weights[i] = 0;
  }
  return out;
}

/**
 * Listeners per room: a log-normal body (median 20: most rooms are a few dozen people), a Pareto
 * tail for 2% of rooms (200 to 5,000), and `hugeRooms` rooms of 10k–30k.
 */
function listenerCount(rnd: () => number): number {
  if (rnd() < 0.02) return Math.min(5000, Math.floor(200 / Math.pow(1 - rnd(), 1 / 1.3)));
  return Math.max(0, Math.floor(Math.exp(Math.log(20) + normal(rnd))));
}

export function syntheticCluster(o: SyntheticOptions = DEFAULT_SYNTHETIC): ClusterSnapshot {
  const rnd = prng(o.seed);
  const sites = REGION_SITES.slice(0, o.regions);
  const regions: RegionSnapshot[] = sites.map((s) => ({
    name: s.name,
    location: { latitude: s.latitude, longitude: s.longitude },
    capacity: {
      listenersPerWorker: o.listenersPerWorker,
      targetUtilizationPercent: 70,
      highWatermarkPercent: 80,
      lowWatermarkPercent: 30,
    },
  }));
  const nodes: NodeSnapshot[] = [];
  for (const s of sites) {
    for (let i = 0; i < o.nodesPerRegion; i++) {
      const id = `${s.name}-media-${i}`;
      nodes.push({
        id,
        region: s.name,
        zone: `${s.name}-${'abcdef'[i % o.zonesPerRegion]}`,
        k8sNode: `node-${s.name}-${i}`,
        draining: false,
        workers: Array.from({ length: o.workersPerNode }, (_, index) => ({
          index,
          alive: true,
          load: { listeners: 0, producers: 0, cpuPercent: 0 },
        })),
      });
    }
  }
  const names = sites.map((s) => s.name);
  const rooms: RoomSnapshot[] = [];
  for (let i = 0; i < o.rooms; i++) {
    const huge = i < o.hugeRooms;
    const listeners = huge ? 10_000 + Math.floor(rnd() * 20_000) : listenerCount(rnd);
    const p = rnd();
    const regionsOf = p < 0.1 ? [] : pickRegions(rnd, names, p < 0.35 ? 2 : 1);
    rooms.push({
      id: `room-${String(i).padStart(5, '0')}`,
      regions: regionsOf,
      anyRegion: regionsOf.length === 0 || rnd() < 0.5,
      listenersPerShard: 500,
      maxShards: 200,
      speakerLimit: huge ? 20 : 5 + Math.floor(rnd() * 6),
      shards: [],
      listeners,
    });
  }
  // Shuffle so the huge rooms are not first by id.
  for (let i = rooms.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rooms[i], rooms[j]] = [rooms[j]!, rooms[i]!];
  }
  return { regions, nodes, rooms };
}

/**
 * The next snapshot, as the media pods would report it after realising the decisions: shards
 * Ready, the room's listeners spread evenly over its serving shards, each worker reporting its
 * listeners and producers (speakers on origins, pipe producers on edges). Without decisions it
 * only spreads new listener counts over the existing shards.
 */
export function realise(
  s: ClusterSnapshot,
  d: Decisions | undefined,
  listeners: ReadonlyMap<string, number> = new Map(),
): ClusterSnapshot {
  const load = new Map<string, { listeners: number; producers: number }>();
  const rooms = s.rooms.map((room): RoomSnapshot => {
    const total = listeners.get(room.id) ?? room.listeners;
    const assigned = d?.assignments.get(room.id) ?? room.shards;
    const serving = assigned.filter((x) => x.state !== 'Draining');
    const each = Math.floor(total / Math.max(1, serving.length));
    let rest = total - each * serving.length;
    const shards: ShardSnapshot[] = assigned.map((x) => {
      if (x.state === 'Draining') return x;
      const l = each + (rest > 0 ? 1 : 0);
      if (rest > 0) rest--;
      return { ...x, state: 'Ready', listeners: l };
    });
    const speakers = Math.min(room.speakerLimit, 3);
    for (const x of shards) {
      const key = `${x.node}/${x.worker}`;
      const w = load.get(key) ?? { listeners: 0, producers: 0 };
      w.listeners += x.listeners;
      w.producers += speakers;
      load.set(key, w);
    }
    return { ...room, listeners: total, shards };
  });
  const nodes = s.nodes.map((n) => ({
    ...n,
    workers: n.workers.map((w) => {
      const l = load.get(`${n.id}/${w.index}`) ?? { listeners: 0, producers: 0 };
      return { ...w, load: { ...l, cpuPercent: 0 } };
    }),
  }));
  return { ...s, nodes, rooms };
}
