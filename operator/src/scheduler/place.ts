// schedule(): the placement scheduler as a pure function — cluster snapshot in, decisions out.
// Deterministic: rooms, pods and workers are visited in id order and every tie is broken by id,
// so the same snapshot (in any order) gives the same decisions. No I/O, no clock.
//
// One pass:
//  1. every room (assess): drop shards on dead pods/workers, retire empty edges on draining pods,
//     charge each shard's unfilled reservation to its worker, and decide how many shards to add or
//     which edges to retire (scaling.ts);
//  2. place, in priority order — rooms that lost their origin, then live rooms that grow, then new
//     rooms (largest first, which packs better) — each reservation charged to its worker at once,
//     so later rooms see it.
import { Footprint, chooseEdgeWorker } from './affinity.js';
import {
  DEFAULT_CAPACITY,
  heldUnits,
  newShardUnits,
  shardShare,
  shardThresholds,
  workerBudget,
  type ShardThresholds,
} from './capacity.js';
import { Cluster, type RegionState, type WorkerState } from './cluster.js';
import { fallbackRegions, noRegionReason, preferredRegions } from './region.js';
import { edgesToRetire, shardsToAdd } from './scaling.js';
import { nextShardSeq, shardId } from './shard-ids.js';
import type {
  CapacityPolicy,
  ClusterSnapshot,
  Decisions,
  Placement,
  RetireReason,
  RoomAction,
  RoomDecision,
  RoomSnapshot,
  ScheduleOptions,
  ShardAssignment,
  ShardSnapshot,
  Unschedulable,
  WorkerProjection,
} from './types.js';

/** Options with their defaults applied. */
export type ResolvedOptions = Required<Omit<ScheduleOptions, 'profile'>>;
type Opts = ResolvedOptions;

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = {
  minReservationPercent: 10,
  maxRetirementsPerRoom: 1,
  minEdgeAgeMs: 60_000,
};

/** A shard the room keeps, with what it holds on its worker. */
interface Kept {
  shard: ShardSnapshot;
  worker: WorkerState;
  held: number;
  serving: boolean;
  state: ShardAssignment['state'];
}

const NEEDS_NOTHING = 0;
const LOST_ORIGIN = 1;
const GROWS = 2;
const NEW_ROOM = 3;

/** Working state of one room during a pass. */
interface RoomWork {
  room: RoomSnapshot;
  ordinal: number;
  /** The room's region: its origin's, or where it is placed this pass. */
  region: RegionState | undefined;
  /** Region of the origin (lost or not), else of any surviving shard. */
  formerRegion: string | undefined;
  thresholds: ShardThresholds;
  kept: Kept[];
  origin: Kept | undefined;
  serving: number;
  /** Allocated on first use: most rooms have nothing to do in a pass. */
  actions: RoomAction[] | undefined;
  added: ShardAssignment[] | undefined;
  /** Shards kept but changed (retired ones dropped, states changed). */
  changed: boolean;
  unschedulable: Unschedulable | undefined;
  /** What placement must do: NEEDS_NOTHING, LOST_ORIGIN, GROWS or NEW_ROOM. */
  need: number;
  /** Shards to add this pass (the origin included when it needs one). */
  toAdd: number;
}

/** Shared by rooms without shards (assess only pushes while it walks a room's shards). */
const NOTHING_KEPT: Kept[] = [];

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: { id: string }, b: { id: string }): number => byString(a.id, b.id);
const originFirst = (a: ShardSnapshot, b: ShardSnapshot): number =>
  (a.role === 'origin' ? 0 : 1) - (b.role === 'origin' ? 0 : 1) || byId(a, b);

/** Per-pass memo of a room's thresholds: they depend only on the policy and listenersPerShard. */
class Thresholds {
  private readonly memo = new Map<CapacityPolicy, Map<number, ShardThresholds>>();
  constructor(private readonly minReservationPercent: number) {}
  get(policy: CapacityPolicy, listenersPerShard: number): ShardThresholds {
    let byLps = this.memo.get(policy);
    if (byLps === undefined) this.memo.set(policy, (byLps = new Map()));
    let t = byLps.get(listenersPerShard);
    if (t === undefined) {
      t = shardThresholds(listenersPerShard, policy, this.minReservationPercent);
      byLps.set(listenersPerShard, t);
    }
    return t;
  }
}

interface Pass {
  cluster: Cluster;
  opts: Opts;
  thresholds: Thresholds;
  now: number | undefined;
}

export function schedule(snapshot: ClusterSnapshot, options: ScheduleOptions = {}): Decisions {
  const { profile, ...given } = options;
  const opts: Opts = { ...DEFAULT_OPTIONS, ...stripUndefined(given) };
  const pass: Pass = {
    cluster: new Cluster(snapshot.regions, snapshot.nodes),
    opts,
    thresholds: new Thresholds(opts.minReservationPercent),
    now: snapshot.now,
  };
  const rooms = sortedById(snapshot.rooms);
  const elapsed = profile ? new Float64Array(rooms.length) : undefined;

  // 1. Take stock: lost and draining shards, reservations, how many shards to add or retire.
  const works: RoomWork[] = [];
  const queue: RoomWork[] = [];
  for (let i = 0; i < rooms.length; i++) {
    const room = rooms[i]!;
    if (i > 0 && room.id === rooms[i - 1]!.id) continue; // duplicate id: the first one wins
    const t0 = profile ? profile.now() : 0;
    const work = assess(room, works.length, pass);
    works.push(work);
    if (work.toAdd > 0) queue.push(work);
    if (elapsed) elapsed[work.ordinal] = profile!.now() - t0;
  }

  // 2. Place: lost origins, then growing live rooms, then new rooms (largest first).
  queue.sort(
    (a, b) =>
      a.need - b.need ||
      (a.need === NEW_ROOM ? b.room.listeners - a.room.listeners : 0) ||
      a.ordinal - b.ordinal,
  );
  for (const work of queue) {
    const t0 = profile ? profile.now() : 0;
    place(work, pass);
    if (elapsed) elapsed[work.ordinal]! += profile!.now() - t0;
  }

  if (profile && elapsed) {
    for (const w of works) profile.record(w.room.id, elapsed[w.ordinal]!);
  }
  return decide(works, pass.cluster);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sortedById<T extends { id: string }>(items: readonly T[]): readonly T[] {
  for (let i = 1; i < items.length; i++) {
    if (items[i - 1]!.id > items[i]!.id) return [...items].sort(byId);
  }
  return items;
}

function assess(room: RoomSnapshot, ordinal: number, pass: Pass): RoomWork {
  const { cluster } = pass;
  const work: RoomWork = {
    room,
    ordinal,
    region: undefined,
    formerRegion: undefined,
    thresholds: pass.thresholds.get(DEFAULT_CAPACITY, room.listenersPerShard),
    kept: room.shards.length > 0 ? [] : NOTHING_KEPT,
    origin: undefined,
    serving: 0,
    actions: undefined,
    added: undefined,
    changed: false,
    unschedulable: undefined,
    need: NEEDS_NOTHING,
    toAdd: 0,
  };
  let lostOrigin: ShardSnapshot | undefined;
  // Origins first, then by id: the order of the resulting assignments.
  const shards = room.shards.length > 1 ? [...room.shards].sort(originFirst) : room.shards;
  for (const shard of shards) {
    const worker = cluster.nodes.get(shard.node)?.workers.get(shard.worker);
    if (worker === undefined || !worker.alive) {
      retire(work, shard, 'lost');
      if (shard.role === 'origin') lostOrigin ??= shard;
      continue;
    }
    const draining = worker.node.draining;
    if (shard.role === 'origin' && work.origin === undefined) {
      // kept below; never retired, even when draining
    } else if (draining && shard.listeners <= 0) {
      retire(work, shard, 'drained');
      continue;
    }
    const state = draining ? 'Draining' : shard.state;
    const kept: Kept = { shard, worker, held: 0, serving: !draining, state };
    if (state !== shard.state) work.changed = true;
    if (shard.role === 'origin' && work.origin === undefined) work.origin = kept;
    work.kept.push(kept);
    if (kept.serving) work.serving++;
  }

  work.formerRegion =
    work.origin?.worker.node.region.name ?? lostOrigin?.region ?? work.kept[0]?.shard.region;
  if (work.origin) work.region = work.origin.worker.node.region;
  const policy =
    (work.formerRegion !== undefined
      ? cluster.regions.get(work.formerRegion)?.policy
      : undefined) ?? DEFAULT_CAPACITY;
  const t = (work.thresholds = pass.thresholds.get(policy, room.listenersPerShard));

  // Charge what the kept shards still hold on their workers.
  if (work.kept.length > 0) {
    const share = shardShare(room.listeners, Math.max(1, work.serving), t);
    for (const k of work.kept) {
      k.held = heldUnits(k.shard, share, room.speakerLimit, k.worker.budget);
      if (k.held > 0) cluster.reserve(k.worker, k.held);
    }
  }

  // Grow or shrink.
  const wanted = shardsToAdd(room.listeners, work.serving, t);
  if (work.origin === undefined) {
    work.need = lostOrigin !== undefined ? LOST_ORIGIN : NEW_ROOM;
    work.toAdd = Math.max(1, wanted);
  } else if (wanted > 0) {
    work.need = GROWS;
    work.toAdd = wanted;
  } else if (mayRetire(work)) {
    shrink(work, pass);
  }

  // maxShards bounds the edges; a lost origin is always replaced.
  const maxShards = Math.max(1, room.maxShards);
  const allowed = Math.max(work.origin === undefined ? 1 : 0, maxShards - work.kept.length);
  if (work.toAdd > allowed) {
    work.unschedulable = {
      reason: 'MaxShardsReached',
      message: `needs ${work.kept.length + work.toAdd} shards, maxShards is ${maxShards}`,
    };
    work.toAdd = allowed;
  }
  return work;
}

/** Cheap pre-check of scaling.edgesToRetire's conditions (most rooms fail it). */
function mayRetire(work: RoomWork): boolean {
  const remaining = work.serving - 1;
  if (remaining < 1 || work.kept.length < 2) return false;
  const { listeners } = work.room;
  if (listeners < remaining * work.thresholds.low) return true;
  if (listeners > remaining * work.thresholds.target) return false;
  for (const k of work.kept) if (k.shard.listeners <= 0) return true;
  return false;
}

function shrink(work: RoomWork, pass: Pass): void {
  const edges = work.kept.filter((k) => k.serving && k.shard.role === 'edge');
  const retirements = edgesToRetire(
    work.room.listeners,
    work.serving,
    edges.map((k) => k.shard),
    work.thresholds,
    { max: pass.opts.maxRetirementsPerRoom, now: pass.now, minAgeMs: pass.opts.minEdgeAgeMs },
  );
  for (const r of retirements) {
    const i = work.kept.findIndex((k) => k.shard === r.shard);
    const k = work.kept[i]!;
    retire(work, r.shard, r.reason);
    pass.cluster.release(k.worker, k.held);
    work.kept.splice(i, 1);
    work.serving--;
  }
}

function act(work: RoomWork, action: RoomAction): void {
  (work.actions ??= []).push(action);
}

function retire(work: RoomWork, shard: ShardSnapshot, reason: RetireReason): void {
  work.changed = true;
  act(work, {
    kind: 'retireShard',
    shardId: shard.id,
    role: shard.role,
    node: shard.node,
    worker: shard.worker,
    reason,
  });
}

function place(work: RoomWork, pass: Pass): void {
  const { cluster } = pass;
  const { room } = work;
  const servingAfter = work.serving + work.toAdd;
  const footprint = new Footprint();
  for (const k of work.kept) footprint.addShard(k.worker, k.serving && k.shard.role === 'edge');
  let seq = nextShardSeq(room.shards);
  let edges = work.toAdd;
  let origin = work.origin?.worker;
  let originId = work.origin?.shard.id ?? '';

  if (work.origin === undefined) {
    edges--;
    const chosen = placeOrigin(work, pass, footprint, servingAfter);
    if (chosen === undefined) return;
    work.region = chosen.region;
    work.thresholds = chosen.thresholds;
    origin = chosen.worker;
    cluster.reserve(origin, chosen.units);
    footprint.addShard(origin, false);
    const shard = newShard(work, 'origin', origin, seq++);
    originId = shard.id;
    act(work, {
      kind: 'placeOrigin',
      shard,
      placement: placementOf(origin),
      cause: work.need === LOST_ORIGIN ? 'originLost' : 'new',
    });
  }
  if (edges <= 0) return;

  const region = work.region;
  if (region === undefined || !region.known) {
    work.unschedulable = {
      reason: 'NoWorkerForEdge',
      message: `the origin's region ${work.formerRegion ?? '?'} has no MediaRegion`,
    };
    return;
  }
  const units = newShardUnits(
    shardShare(room.listeners, servingAfter, work.thresholds),
    room.speakerLimit,
    workerBudget(region.policy),
  );
  for (let i = 0; i < edges; i++) {
    const choice = chooseEdgeWorker(cluster, region, origin, units, footprint);
    if (choice === undefined) {
      work.unschedulable = {
        reason: 'NoWorkerForEdge',
        message: `placed ${i} of ${edges} edges: no worker of ${region.name} has ${units} units free on a worker and node the room may use`,
      };
      return;
    }
    cluster.reserve(choice.worker, units);
    footprint.addShard(choice.worker, true);
    act(work, {
      kind: 'addEdge',
      shard: newShard(work, 'edge', choice.worker, seq++),
      placement: placementOf(choice.worker),
      from: originId,
      tier: choice.tier,
    });
  }
}

/**
 * The origin's worker: best fit in the first candidate region that has one. A room with surviving
 * shards stays in their region; otherwise its preferred regions (its former one first), then the
 * fallback ones if it allows any region.
 */
function placeOrigin(
  work: RoomWork,
  pass: Pass,
  footprint: Footprint,
  servingAfter: number,
): OriginChoice | undefined {
  const { cluster } = pass;
  const { room } = work;
  const former =
    work.formerRegion !== undefined ? cluster.regions.get(work.formerRegion) : undefined;
  if (work.kept.length > 0) {
    const found = former?.known ? originIn(former, work, pass, footprint, servingAfter) : undefined;
    if (found === undefined)
      work.unschedulable = noRegionReason(room, former?.known ? [former] : []);
    return found;
  }
  const preferred = preferredRegions(room, cluster);
  if (former?.known && preferred.includes(former)) {
    preferred.splice(preferred.indexOf(former), 1);
    preferred.unshift(former);
  }
  for (const region of preferred) {
    const found = originIn(region, work, pass, footprint, servingAfter);
    if (found) return found;
  }
  const fallback = fallbackRegions(room, cluster, preferred);
  for (const region of fallback) {
    const found = originIn(region, work, pass, footprint, servingAfter);
    if (found) return found;
  }
  work.unschedulable = noRegionReason(room, preferred.concat(fallback));
  return undefined;
}

interface OriginChoice {
  region: RegionState;
  worker: WorkerState;
  units: number;
  thresholds: ShardThresholds;
}

/** Best fit for the origin in one region, sized with that region's policy. */
function originIn(
  region: RegionState,
  work: RoomWork,
  pass: Pass,
  footprint: Footprint,
  servingAfter: number,
): OriginChoice | undefined {
  const { room } = work;
  const thresholds = pass.thresholds.get(region.policy, room.listenersPerShard);
  const units = newShardUnits(
    shardShare(room.listeners, servingAfter, thresholds),
    room.speakerLimit,
    workerBudget(region.policy),
  );
  const worker = pass.cluster.bestInRegion(region, units, footprint.empty ? undefined : footprint);
  return worker && { region, worker, units, thresholds };
}

function newShard(
  work: RoomWork,
  role: 'origin' | 'edge',
  w: WorkerState,
  seq: number,
): ShardAssignment {
  const shard: ShardAssignment = {
    id: shardId(role, seq),
    role,
    region: w.node.region.name,
    node: w.node.id,
    worker: w.index,
    listeners: 0,
    state: 'Pending',
  };
  (work.added ??= []).push(shard);
  return shard;
}

function placementOf(w: WorkerState): Placement {
  return {
    region: w.node.region.name,
    zone: w.node.zone,
    node: w.node.id,
    k8sNode: w.node.k8sNode,
    worker: w.index,
  };
}

function decide(works: RoomWork[], cluster: Cluster): Decisions {
  const rooms: RoomDecision[] = [];
  const assignments = new Map<string, readonly ShardAssignment[]>();
  const stats = { rooms: works.length, origins: 0, edges: 0, retirements: 0, unschedulable: 0 };
  for (const work of works) {
    const { room } = work;
    const unchanged = !work.changed && work.added === undefined;
    assignments.set(room.id, unchanged ? room.shards : resulting(work));
    const actions = work.actions ?? [];
    for (const a of actions) {
      if (a.kind === 'placeOrigin') stats.origins++;
      else if (a.kind === 'addEdge') stats.edges++;
      else stats.retirements++;
    }
    if (work.unschedulable) stats.unschedulable++;
    if (actions.length === 0 && work.unschedulable === undefined) continue;
    rooms.push({
      roomId: room.id,
      region: work.region?.name ?? work.formerRegion ?? '',
      actions,
      ...(work.unschedulable ? { unschedulable: work.unschedulable } : {}),
    });
  }
  const workers: WorkerProjection[] = cluster.workers.map((w) => ({
    node: w.node.id,
    worker: w.index,
    region: w.node.region.name,
    capacity: w.capacity,
    budget: w.budget,
    projected: w.projected,
    schedulable: w.schedulable,
  }));
  return { rooms, assignments, workers, stats };
}

/** The room's shards after the pass: those kept (as CRD shards), then the new ones. */
function resulting(work: RoomWork): ShardAssignment[] {
  if (work.kept.length === 0) return work.added ?? [];
  const out: ShardAssignment[] = [];
  for (const k of work.kept) {
    const { id, role, region, node, worker, listeners } = k.shard;
    out.push({ id, role, region, node, worker, listeners, state: k.state });
  }
  for (const a of work.added ?? []) out.push(a);
  return out;
}
