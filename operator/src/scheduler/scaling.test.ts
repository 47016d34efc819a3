import { describe, expect, it } from '@jest/globals';
import { shardThresholds } from './capacity.js';
import { region } from './fixtures.js';
import { edgesToRetire, shardsToAdd, type RetireCandidate } from './scaling.js';

// listenersPerShard 500: target 350, high 400, low 150.
const t = shardThresholds(500, region('eu').capacity, 10);
const limits = { max: 1, minAgeMs: 60_000 };
const edge = (id: string, listeners: number, createdAt?: number): RetireCandidate => ({
  id,
  listeners,
  ...(createdAt !== undefined ? { createdAt } : {}),
});

describe('shardsToAdd', () => {
  it('gives a room with nothing serving it at least one shard', () => {
    expect(shardsToAdd(0, 0, t)).toBe(1);
    expect(shardsToAdd(1000, 0, t)).toBe(3);
  });

  it('adds nothing at or below the high watermark', () => {
    expect(shardsToAdd(400, 1, t)).toBe(0);
    expect(shardsToAdd(800, 2, t)).toBe(0);
  });

  it('adds exactly one shard just above the high watermark', () => {
    expect(shardsToAdd(401, 1, t)).toBe(1);
    expect(shardsToAdd(801, 2, t)).toBe(1);
  });

  it('adds enough shards to bring a surge back to the fill target', () => {
    expect(shardsToAdd(3500, 1, t)).toBe(9);
  });
});

describe('edgesToRetire', () => {
  it('retires an idle edge when the other shards stay under the target', () => {
    expect(edgesToRetire(300, 2, [edge('e1', 0)], t, limits)).toEqual([
      { shard: edge('e1', 0), reason: 'idle' },
    ]);
  });

  it('keeps an idle edge the others could not absorb below the target', () => {
    expect(edgesToRetire(360, 2, [edge('e1', 0)], t, limits)).toEqual([]);
  });

  it('retires the emptiest busy edge only below the low watermark', () => {
    const edges = [edge('e1', 60), edge('e2', 40)];
    expect(edgesToRetire(290, 3, edges, t, limits)).toEqual([
      { shard: edge('e2', 40), reason: 'underloaded' },
    ]);
    expect(edgesToRetire(310, 3, edges, t, limits)).toEqual([]);
  });

  it('retires one edge per pass by default, more when allowed', () => {
    const edges = [edge('e1', 0), edge('e2', 0), edge('e3', 0)];
    expect(edgesToRetire(0, 4, edges, t, limits)).toHaveLength(1);
    expect(edgesToRetire(0, 4, edges, t, { ...limits, max: 10 }).map((r) => r.shard.id)).toEqual([
      'e1',
      'e2',
      'e3',
    ]);
  });

  it('never goes below one serving shard (the origin)', () => {
    expect(edgesToRetire(0, 1, [], t, limits)).toEqual([]);
  });

  it('spares young edges', () => {
    const now = 1_000_000;
    const young = edge('e1', 0, now - 10_000);
    const old = edge('e2', 0, now - 120_000);
    expect(edgesToRetire(0, 2, [young], t, { ...limits, now })).toEqual([]);
    expect(edgesToRetire(0, 3, [young, old], t, { ...limits, now })[0]?.shard.id).toBe('e2');
  });

  it('has a dead band: load between the bands neither adds nor retires', () => {
    // Two serving shards (origin + one edge); sweep listeners from 0 to 900 and back.
    const changes: string[] = [];
    let serving = 1;
    const sweep = [...Array(19).keys()].map((i) => i * 50);
    for (const listeners of [...sweep, ...sweep.reverse()]) {
      if (shardsToAdd(listeners, serving, t) > 0) {
        serving += shardsToAdd(listeners, serving, t);
        changes.push(`+${listeners}`);
      } else {
        const edges = Array.from({ length: serving - 1 }, (_, i) => edge(`e${i}`, 1));
        const r = edgesToRetire(listeners, serving, edges, t, limits);
        serving -= r.length;
        if (r.length > 0) changes.push(`-${listeners}`);
      }
    }
    // Grows at 450 (>400/shard) and 850 (>800 for 2); shrinks at 250 (<150×2) and 100 (<150×1).
    expect(changes).toEqual(['+450', '+850', '-250', '-100']);
  });
});
