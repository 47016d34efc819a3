// Capacity arithmetic, in listener-stream units: a listener's consumer, a speaker's producer and a
// pipe producer each count one. Workers fill up to a budget (target utilisation); shards hold a
// reservation for the listeners they are expected to get, so that one pass (or two passes in a row,
// before heartbeats catch up) never promises the same headroom twice.
import type { CapacityPolicy, ShardState, WorkerLoad } from './types.js';

/** MediaRegionSpec.capacity defaults, for pods whose region has no policy in the snapshot. */
export const DEFAULT_CAPACITY: CapacityPolicy = {
  listenersPerWorker: 500,
  targetUtilizationPercent: 70,
  highWatermarkPercent: 80,
  lowWatermarkPercent: 30,
};

/** Units a worker may be filled to by placement: listenersPerWorker × target%. */
export function workerBudget(policy: CapacityPolicy): number {
  return Math.floor((policy.listenersPerWorker * policy.targetUtilizationPercent) / 100);
}

/** A worker's reported load: its streams, or its CPU share of capacity when that is higher. */
export function reportedUnits(load: WorkerLoad, policy: CapacityPolicy): number {
  const streams = Math.max(0, load.listeners) + Math.max(0, load.producers);
  const cpu = Math.ceil((Math.max(0, load.cpuPercent) * policy.listenersPerWorker) / 100);
  return Math.max(streams, cpu);
}

/** Per-shard listener thresholds of one room: its listenersPerShard × the region's percents. */
export interface ShardThresholds {
  /** Where shards are filled to when the room grows (sizing new edges). */
  target: number;
  /** Average listeners per serving shard above which an edge is added. */
  high: number;
  /** Average per remaining shard below which the emptiest edge is retired. */
  low: number;
  /** Smallest listener reservation of a shard. */
  minReservation: number;
}

export function shardThresholds(
  listenersPerShard: number,
  policy: CapacityPolicy,
  minReservationPercent: number,
): ShardThresholds {
  const lps = Math.max(1, listenersPerShard);
  const target = Math.max(1, (lps * policy.targetUtilizationPercent) / 100);
  const high = Math.max(target, (lps * policy.highWatermarkPercent) / 100);
  const low = Math.min(target, (lps * policy.lowWatermarkPercent) / 100);
  const minReservation = Math.min(
    Math.floor(target),
    Math.ceil((lps * minReservationPercent) / 100),
  );
  return { target, high, low, minReservation };
}

/**
 * Listeners each shard of a room is expected to carry: the room's listeners spread over its
 * shards, at least the minimum reservation, at most the fill target.
 */
export function shardShare(listeners: number, shards: number, t: ShardThresholds): number {
  const even = shards > 0 ? Math.ceil(Math.max(0, listeners) / shards) : 0;
  return Math.min(
    Math.max(even, t.minReservation),
    Math.max(t.minReservation, Math.floor(t.target)),
  );
}

/**
 * What an existing shard still holds on its worker beyond the reported load: the part of its share
 * not yet filled, plus its producers when the media pod has not realised it yet (Pending).
 */
export function heldUnits(
  shard: { listeners: number; state: ShardState },
  share: number,
  speakerLimit: number,
  budget: number,
): number {
  const unfilled = Math.max(0, share - Math.max(0, shard.listeners));
  const producers = shard.state === 'Pending' ? speakerLimit : 0;
  return Math.min(budget, unfilled + producers);
}

/** What a new shard reserves: its share plus one producer per speaker; never more than a budget. */
export function newShardUnits(share: number, speakerLimit: number, budget: number): number {
  return Math.min(budget, share + speakerLimit);
}
