// The mutable working state of one pass, built from the snapshot: every worker's projected load,
// and per region and zone an index of the schedulable workers (live, on non-draining pods).
// Reservations made during the pass go through reserve()/release(), which keep the indexes in
// step, so a worker is never promised the same headroom twice.
import { DEFAULT_CAPACITY, reportedUnits, workerBudget } from './capacity.js';
import type { CapacityPolicy, GeoPoint, NodeSnapshot, RegionSnapshot } from './types.js';
import { compareFit, WorkerIndex, type WorkerFilter } from './worker-index.js';

export interface WorkerState {
  readonly ordinal: number;
  headroom: number;
  readonly node: NodeState;
  readonly index: number;
  readonly alive: boolean;
  readonly capacity: number;
  readonly budget: number;
  /** Reported units plus held and new reservations. */
  projected: number;
  readonly schedulable: boolean;
  /** The index it is in (schedulable workers only). */
  zone: ZoneIndex | undefined;
}

export interface NodeState {
  readonly id: string;
  readonly region: RegionState;
  readonly zone: string;
  /** Failure domain for spreading a room's edges (the Kubernetes node, else the pod). */
  readonly domain: string;
  readonly k8sNode: string;
  readonly draining: boolean;
  /** By worker index. */
  readonly workers: ReadonlyMap<number, WorkerState>;
  /** Schedulable workers, by ordinal. */
  readonly schedulableWorkers: readonly WorkerState[];
}

export interface ZoneIndex {
  readonly name: string;
  readonly workers: WorkerIndex<WorkerState>;
}

export interface RegionState {
  readonly name: string;
  readonly policy: CapacityPolicy;
  /** Has a MediaRegion (pods of other regions are never scheduled on). */
  readonly known: boolean;
  readonly location?: GeoPoint;
  /** Its zones with schedulable workers, by name. */
  readonly zones: ZoneIndex[];
  liveNodes: number;
  drainingNodes: number;
  /** Failure domains with at least one schedulable worker. */
  readonly domains: Set<string>;
  /** Sum of headroom over schedulable workers (ordering fallback regions). */
  freeUnits: number;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class Cluster {
  readonly regions = new Map<string, RegionState>();
  /** Regions with a MediaRegion policy, sorted by name. */
  readonly knownRegions: RegionState[];
  readonly nodes = new Map<string, NodeState>();
  /** All workers of live pods, by ordinal (node id, then worker index). */
  readonly workers: WorkerState[] = [];

  constructor(regions: readonly RegionSnapshot[], nodes: readonly NodeSnapshot[]) {
    for (const r of [...regions].sort((a, b) => byString(a.name, b.name))) {
      if (!this.regions.has(r.name)) {
        this.regions.set(r.name, newRegion(r.name, r.capacity, true, r.location));
      }
    }
    this.knownRegions = [...this.regions.values()];
    const perZone = new Map<RegionState, Map<string, WorkerState[]>>();
    for (const n of [...nodes].sort((a, b) => byString(a.id, b.id))) {
      if (this.nodes.has(n.id)) continue; // duplicate registry entry: the first one wins
      let region = this.regions.get(n.region);
      if (region === undefined) {
        region = newRegion(n.region, DEFAULT_CAPACITY, false);
        this.regions.set(n.region, region);
      }
      const workers = new Map<number, WorkerState>();
      const schedulableWorkers: WorkerState[] = [];
      const node: NodeState = {
        id: n.id,
        region,
        zone: n.zone,
        domain: n.k8sNode !== '' ? n.k8sNode : n.id,
        k8sNode: n.k8sNode,
        draining: n.draining,
        workers,
        schedulableWorkers,
      };
      this.nodes.set(n.id, node);
      region.liveNodes++;
      if (n.draining) region.drainingNodes++;
      const budget = workerBudget(region.policy);
      for (const w of [...n.workers].sort((a, b) => a.index - b.index)) {
        if (workers.has(w.index)) continue;
        const schedulable = region.known && !n.draining && w.alive;
        const projected = reportedUnits(w.load, region.policy);
        const state: WorkerState = {
          ordinal: this.workers.length,
          headroom: budget - projected,
          node,
          index: w.index,
          alive: w.alive,
          capacity: region.policy.listenersPerWorker,
          budget,
          projected,
          schedulable,
          zone: undefined,
        };
        this.workers.push(state);
        workers.set(w.index, state);
        if (!schedulable) continue;
        schedulableWorkers.push(state);
        region.domains.add(node.domain);
        region.freeUnits += Math.max(0, state.headroom);
        let zones = perZone.get(region);
        if (zones === undefined) perZone.set(region, (zones = new Map()));
        let list = zones.get(n.zone);
        if (list === undefined) zones.set(n.zone, (list = []));
        list.push(state);
      }
    }
    for (const [region, zones] of perZone) {
      for (const name of [...zones.keys()].sort(byString)) {
        const members = zones.get(name)!;
        const zone: ZoneIndex = { name, workers: new WorkerIndex(members) };
        for (const w of members) w.zone = zone;
        region.zones.push(zone);
      }
    }
  }

  reserve(w: WorkerState, units: number): void {
    this.setProjected(w, w.projected + units);
  }

  release(w: WorkerState, units: number): void {
    this.setProjected(w, w.projected - units);
  }

  private setProjected(w: WorkerState, projected: number): void {
    const headroom = w.budget - projected;
    w.projected = projected;
    if (w.zone === undefined) {
      w.headroom = headroom;
      return;
    }
    w.node.region.freeUnits += Math.max(0, headroom) - Math.max(0, w.headroom);
    w.zone.workers.update(w, headroom);
  }

  /** Best fit among one pod's schedulable workers. */
  bestOnNode(
    node: NodeState,
    need: number,
    filter?: WorkerFilter<WorkerState>,
  ): WorkerState | undefined {
    let best: WorkerState | undefined;
    for (const w of node.schedulableWorkers) {
      if (w.headroom < need || (filter !== undefined && !filter.accepts(w))) continue;
      if (best === undefined || compareFit(w, best) < 0) best = w;
    }
    return best;
  }

  /** Best fit over a region's zones; only `onlyZone`, or all but `exceptZone`, when given. */
  bestInRegion(
    region: RegionState,
    need: number,
    filter?: WorkerFilter<WorkerState>,
    zones?: { onlyZone?: string; exceptZone?: string },
  ): WorkerState | undefined {
    let best: WorkerState | undefined;
    for (const zone of region.zones) {
      if (zones?.onlyZone !== undefined && zone.name !== zones.onlyZone) continue;
      if (zone.name === zones?.exceptZone) continue;
      const w = zone.workers.bestFit(need, filter);
      if (w !== undefined && (best === undefined || compareFit(w, best) < 0)) best = w;
    }
    return best;
  }
}

function newRegion(
  name: string,
  policy: CapacityPolicy,
  known: boolean,
  location?: GeoPoint,
): RegionState {
  return {
    name,
    policy,
    known,
    ...(location !== undefined ? { location } : {}),
    zones: [],
    liveNodes: 0,
    drainingNodes: 0,
    domains: new Set(),
    freeUnits: 0,
  };
}
