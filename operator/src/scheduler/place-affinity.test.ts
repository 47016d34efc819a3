// schedule(): where edges go — the origin's pod, then its zone, then its region — and spread.
import { describe, expect, it } from '@jest/globals';
import { actionsOf, cluster, node, placed, room, shard } from './fixtures.js';
import { schedule } from './place.js';
import type { AffinityTier, Decisions } from './types.js';

const FULL = 350;
const tiers = (d: Decisions, id = 'r'): AffinityTier[] =>
  actionsOf(d, id).flatMap((a) => (a.kind === 'addEdge' ? [a.tier] : []));
/** A room of 401 listeners on its origin at p1/0: it needs one edge. */
const crossing = room('r', { listeners: 401, shards: [shard('o1', 'origin', 'p1', 0, 401)] });

describe('edge affinity', () => {
  it('prefers another worker of the origin’s pod', () => {
    const d = schedule(cluster([node('p1', { load: { 0: 401 } }), node('p2')], [crossing]));
    expect(tiers(d)).toEqual(['samePod']);
    expect(placed(d)[0]).toMatch(/^p1\/[123]$/);
  });

  it('then a pod in the origin’s zone', () => {
    const p1 = node('p1', { load: { 0: 401, 1: FULL, 2: FULL, 3: FULL } });
    const d = schedule(
      cluster([p1, node('p2', { zone: 'b' }), node('p3', { zone: 'a' })], [crossing]),
    );
    expect(tiers(d)).toEqual(['sameZone']);
    expect(placed(d)[0]).toMatch(/^p3\//);
  });

  it('then any pod of the region', () => {
    const p1 = node('p1', { load: { 0: 401, 1: FULL, 2: FULL, 3: FULL } });
    const d = schedule(cluster([p1, node('p2', { zone: 'b' })], [crossing]));
    expect(tiers(d)).toEqual(['sameRegion']);
    expect(placed(d)[0]).toMatch(/^p2\//);
  });

  it('picks the best fit within a tier', () => {
    const p1 = node('p1', { load: { 0: 401, 1: 10, 2: 100, 3: 20 } });
    const d = schedule(cluster([p1], [crossing]));
    expect(placed(d)).toEqual(['p1/2']);
  });
});

describe('edge spread', () => {
  it('never puts two shards of a room on one worker', () => {
    const d = schedule(
      cluster(
        ['p1', 'p2', 'p3'].map((id) => node(id)),
        [room('r', { listeners: 3500 })],
      ),
    );
    const workers = placed(d);
    expect(workers).toHaveLength(10);
    expect(new Set(workers).size).toBe(10);
  });

  it('does not put a room’s second edge on the pod of its first', () => {
    const r = room('r', {
      listeners: 1000,
      shards: [shard('o1', 'origin', 'p1', 0, 500), shard('e2', 'edge', 'p1', 1, 500)],
    });
    const d = schedule(cluster([node('p1'), node('p2')], [r]));
    expect(placed(d)).toEqual(['p2/0']);
    expect(tiers(d)).toEqual(['sameZone']);
  });

  it('allows the origin’s pod again once the edges span two pods', () => {
    const r = room('r', {
      listeners: 1300,
      shards: [
        shard('o1', 'origin', 'p1', 0, 400),
        shard('e2', 'edge', 'p1', 1, 450),
        shard('e3', 'edge', 'p2', 0, 450),
      ],
    });
    const d = schedule(cluster([node('p1'), node('p2')], [r]));
    expect(tiers(d)).toEqual(['samePod']);
  });

  it('spreads over Kubernetes nodes, not just pods', () => {
    const r = room('r', {
      listeners: 1000,
      shards: [shard('o1', 'origin', 'p1', 0, 500), shard('e2', 'edge', 'p1', 1, 500)],
    });
    const nodes = [
      node('p1', { k8sNode: 'n1' }),
      node('p2', { k8sNode: 'n1' }),
      node('p3', { k8sNode: 'n2', zone: 'b' }),
    ];
    expect(placed(schedule(cluster(nodes, [r])))).toEqual(['p3/0']);
  });

  it('leaves the edge unplaced rather than break spread when another pod exists but is full', () => {
    const r = room('r', {
      listeners: 1000,
      shards: [shard('o1', 'origin', 'p1', 0, 500), shard('e2', 'edge', 'p1', 1, 500)],
    });
    const p2 = node('p2', { load: { 0: FULL, 1: FULL, 2: FULL, 3: FULL } });
    const d = schedule(cluster([node('p1'), p2], [r]));
    expect(placed(d)).toEqual([]);
    expect(d.rooms[0]?.unschedulable?.reason).toBe('NoWorkerForEdge');
  });

  it('uses the only pod of a single-pod region for all edges', () => {
    const d = schedule(cluster([node('p1')], [room('r', { listeners: 1200 })]));
    expect(placed(d)).toHaveLength(4);
    expect(d.rooms[0]?.unschedulable).toBeUndefined();
  });
});
