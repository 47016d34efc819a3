// When a room grows or shrinks: pure arithmetic on its listener count and serving shards.
//
// Serving shards are the origin and the edges on live, non-draining workers; all of them take
// listeners (a small room is just its origin). Hysteresis: an edge is added when the average per
// serving shard goes above the high watermark, and new edges bring it back to the fill target;
// an edge is retired only when the shards that remain stay under the target (idle edge) or under
// the low watermark (busy edge). Between those bands nothing changes, so load that hovers around
// a threshold does not add and retire the same edge on alternate passes.
import type { ShardThresholds } from './capacity.js';

/**
 * Shards a room should add this pass. `serving` 0 means nothing serves it (a new room, a lost
 * origin, or every shard draining): it gets at least one.
 */
export function shardsToAdd(listeners: number, serving: number, t: ShardThresholds): number {
  const wanted = Math.max(1, Math.ceil(Math.max(0, listeners) / t.target));
  if (serving === 0) return wanted;
  if (listeners <= serving * t.high) return 0;
  return Math.max(1, wanted - serving);
}

export interface RetireCandidate {
  id: string;
  listeners: number;
  createdAt?: number;
}

export interface Retirement<C extends RetireCandidate> {
  shard: C;
  reason: 'idle' | 'underloaded';
}

/**
 * Edges to retire, emptiest first. `serving` counts the origin too; the origin is never a
 * candidate. Edges younger than `minAgeMs` are kept (when `now` and their createdAt are known).
 */
export function edgesToRetire<C extends RetireCandidate>(
  listeners: number,
  serving: number,
  edges: readonly C[],
  t: ShardThresholds,
  limits: { max: number; now?: number; minAgeMs: number },
): Retirement<C>[] {
  const out: Retirement<C>[] = [];
  const old = (e: C): boolean =>
    limits.now === undefined ||
    e.createdAt === undefined ||
    limits.now - e.createdAt >= limits.minAgeMs;
  const candidates = edges
    .filter(old)
    .sort((a, b) => a.listeners - b.listeners || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let n = serving;
  for (const edge of candidates) {
    if (out.length >= limits.max || n < 2) break;
    const remaining = n - 1;
    if (edge.listeners === 0 && listeners <= remaining * t.target) {
      out.push({ shard: edge, reason: 'idle' });
    } else if (listeners < remaining * t.low) {
      out.push({ shard: edge, reason: 'underloaded' });
    } else {
      break; // sorted by listeners: a fuller edge does not qualify either
    }
    n = remaining;
  }
  return out;
}
