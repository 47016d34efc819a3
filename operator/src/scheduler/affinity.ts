// Where a room's next edge goes. Affinity first — the origin's own pod (pipeToRouter between its
// workers, no network hop), then the origin's zone, then the rest of its region — best fit within
// each rung. Spread is a hard rule on top: an edge never shares a worker with another shard of the
// room, and a room's edges are never all in one failure domain (Kubernetes node) once there are two
// of them, unless the region has only one domain to offer.
import type { Cluster, RegionState, WorkerState } from './cluster.js';
import type { AffinityTier } from './types.js';
import type { WorkerFilter } from './worker-index.js';

/**
 * A room's footprint, updated as its shards are placed (arrays: rooms have few shards). As a
 * worker filter it rejects the room's own workers and, once `edgesIn` is set, edge placements
 * that break the spread rules.
 */
export class Footprint implements WorkerFilter<WorkerState> {
  /** Workers hosting a shard of the room. */
  readonly workers: WorkerState[] = [];
  /** Serving edges. */
  edges = 0;
  /** The failure domain of the first edge, and whether the edges span more than one. */
  private edgeDomain: string | undefined;
  private spread = false;
  /** The region edges are being placed in; unset while placing the origin. */
  edgesIn: RegionState | undefined;

  get empty(): boolean {
    return this.workers.length === 0;
  }

  uses(w: WorkerState): boolean {
    return this.workers.includes(w);
  }

  addShard(w: WorkerState, edge: boolean): void {
    this.workers.push(w);
    if (!edge) return;
    this.edges++;
    if (this.edgeDomain === undefined) this.edgeDomain = w.node.domain;
    else if (this.edgeDomain !== w.node.domain) this.spread = true;
  }

  accepts(w: WorkerState): boolean {
    if (this.uses(w)) return false;
    const region = this.edgesIn;
    if (region === undefined || this.edges === 0 || this.spread || region.domains.size < 2) {
      return true;
    }
    return w.node.domain !== this.edgeDomain;
  }
}

export interface EdgeChoice {
  worker: WorkerState;
  tier: AffinityTier;
}

/** The worker for a room's next edge, and the affinity rung it was found on. */
export function chooseEdgeWorker(
  cluster: Cluster,
  region: RegionState,
  origin: WorkerState | undefined,
  need: number,
  footprint: Footprint,
): EdgeChoice | undefined {
  footprint.edgesIn = region;
  if (origin !== undefined && origin.node.region === region) {
    const zone = origin.node.zone;
    const samePod = cluster.bestOnNode(origin.node, need, footprint);
    if (samePod !== undefined) return { worker: samePod, tier: 'samePod' };
    const sameZone = cluster.bestInRegion(region, need, footprint, { onlyZone: zone });
    if (sameZone !== undefined) return { worker: sameZone, tier: 'sameZone' };
    const other = cluster.bestInRegion(region, need, footprint, { exceptZone: zone });
    return other !== undefined ? { worker: other, tier: 'sameRegion' } : undefined;
  }
  const any = cluster.bestInRegion(region, need, footprint);
  return any !== undefined ? { worker: any, tier: 'sameRegion' } : undefined;
}
