// Load → desired replicas (pure): from the region's live heartbeats, scale up as soon as the
// serving pods are above the target utilisation, down only below the low watermark (hysteresis).
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { MediaRegionSpec } from '../../../../common/src/crd/media-region.js';
import { podOrdinal, type MediaRegion } from './types.js';

/** Streams on a node: consumers + producers over its live workers. */
export function nodeLoad(hb: NodeHeartbeat): number {
  let load = 0;
  for (const w of hb.workers) load += w.consumers + w.producers;
  return load;
}

/** The live heartbeats of this region's own pods, by pod name. */
export function regionNodes(
  region: MediaRegion,
  nodes: readonly NodeHeartbeat[],
): Map<string, NodeHeartbeat> {
  const out = new Map<string, NodeHeartbeat>();
  for (const hb of nodes) {
    if (hb.region !== region.spec.region) continue;
    if (podOrdinal(region, hb.node) === undefined) continue;
    out.set(hb.node, hb);
  }
  return out;
}

export const podCapacity = (spec: MediaRegionSpec): number =>
  spec.mediaPod.workersPerPod * spec.capacity.listenersPerWorker;

export interface LoadInput {
  spec: MediaRegionSpec;
  /** Streams over all of the region's pods (draining ones included: their load has to move). */
  used: number;
  /** Pods serving now (not draining). */
  serving: number;
}

export interface LoadDecision {
  desired: number;
  /** Pods needed to bring the load to the target utilisation (unclamped). */
  needed: number;
  /** used / (serving × pod capacity), percent; Infinity with load and no serving pod. */
  utilizationPercent: number;
  direction: 'up' | 'down' | 'steady';
}

export function clampReplicas(spec: MediaRegionSpec, n: number): number {
  return Math.min(spec.maxReplicas, Math.max(spec.minReplicas, n));
}

export function desiredReplicas({ spec, used, serving }: LoadInput): LoadDecision {
  const perPod = podCapacity(spec);
  const target = (perPod * spec.capacity.targetUtilizationPercent) / 100;
  const needed = used <= 0 ? 0 : Math.ceil(used / target);
  const utilizationPercent =
    serving > 0 ? (100 * used) / (serving * perPod) : used > 0 ? Infinity : 0;
  const floor = clampReplicas(spec, serving);
  let desired = floor;
  if (serving < spec.minReplicas || needed > serving) {
    // Up promptly: to what the target asks for (at least the floor).
    desired = clampReplicas(spec, Math.max(needed, serving));
  } else if (utilizationPercent < spec.capacity.lowWatermarkPercent) {
    // Down only below the low watermark, and only to what the target needs.
    desired = clampReplicas(spec, Math.min(serving, needed));
  }
  const direction = desired > serving ? 'up' : desired < serving ? 'down' : 'steady';
  return { desired, needed, utilizationPercent, direction };
}
