// schedule(): draining pods, dead workers and pods, capacity and double booking.
import { describe, expect, it } from '@jest/globals';
import { actionsOf, cluster, kinds, node, placed, prng, region, room, shard } from './fixtures.js';
import { schedule } from './place.js';
import type { Decisions, NodeSnapshot, RoomSnapshot } from './types.js';

const rooms = (n: number, over: Partial<RoomSnapshot> = {}): RoomSnapshot[] =>
  Array.from({ length: n }, (_, i) => room(`r${String(i).padStart(2, '0')}`, over));

/** Units placed per worker in the pass, from the decisions' projections. */
const projected = (d: Decisions): Map<string, number> =>
  new Map(d.workers.map((w) => [`${w.node}/${w.worker}`, w.projected]));

describe('draining pods and dead workers', () => {
  it('places nothing on a draining pod, however empty', () => {
    const nodes = [node('idle', { draining: true }), node('busy', { load: { 0: 200, 1: 200 } })];
    const d = schedule(cluster(nodes, rooms(10)));
    expect(placed(d).length).toBe(10);
    expect(placed(d).filter((p) => p.startsWith('idle/'))).toEqual([]);
  });

  it('places nothing on a dead worker', () => {
    const d = schedule(cluster([node('p1', { dead: [0, 1, 2] })], rooms(3)));
    expect(new Set(placed(d))).toEqual(new Set(['p1/3']));
  });

  it('places nothing on a worker whose CPU is above the target', () => {
    const d = schedule(
      cluster([node('p1', { workers: 2, load: { 0: { cpuPercent: 95 } } })], rooms(2)),
    );
    expect(new Set(placed(d))).toEqual(new Set(['p1/1']));
  });

  it('retires the shards of a pod that is gone and replaces the origin in the same region', () => {
    const r = room('r', {
      regions: ['eu'],
      listeners: 600,
      shards: [shard('o1', 'origin', 'gone', 0, 300), shard('e2', 'edge', 'p1', 1, 300)],
    });
    const d = schedule(cluster([node('p1'), node('p2')], [r]));
    expect(kinds(d, 'r')).toEqual(['retire:o1:lost', 'placeOrigin']);
    expect(actionsOf(d, 'r')[1]).toMatchObject({ cause: 'originLost', shard: { id: 'o3' } });
    expect(placed(d)).not.toContain('p1/1'); // not on the surviving edge's worker
  });

  it('treats a shard on a dead worker as lost', () => {
    const r = room('r', { listeners: 10, shards: [shard('o1', 'origin', 'p1', 0, 10)] });
    const d = schedule(cluster([node('p1', { dead: [0] })], [r]));
    expect(kinds(d, 'r')).toEqual(['retire:o1:lost', 'placeOrigin']);
    expect(placed(d)).not.toContain('p1/0');
  });

  it('retires empty edges on a draining pod and replaces busy ones elsewhere', () => {
    const r = room('r', {
      listeners: 600,
      shards: [
        shard('o1', 'origin', 'p1', 0, 300),
        shard('e2', 'edge', 'old', 0, 300),
        shard('e3', 'edge', 'old', 1, 0),
      ],
    });
    const d = schedule(cluster([node('p1'), node('old', { draining: true })], [r]));
    expect(kinds(d, 'r')).toEqual(['retire:e3:drained', 'addEdge']);
    expect(placed(d)[0]).toMatch(/^p1\//);
    expect(d.assignments.get('r')?.map((s) => `${s.id}:${s.state}`)).toEqual([
      'o1:Ready',
      'e2:Draining',
      'e4:Pending',
    ]);
  });

  it('keeps an origin on a draining pod and grows the room elsewhere', () => {
    const r = room('r', { listeners: 100, shards: [shard('o1', 'origin', 'old', 0, 100)] });
    const d = schedule(cluster([node('old', { draining: true }), node('p1')], [r]));
    expect(kinds(d, 'r')).toEqual(['addEdge']);
    expect(placed(d)[0]).toMatch(/^p1\//);
  });
});

describe('capacity', () => {
  it('never fills a worker past its budget', () => {
    const rnd = prng(42);
    const nodes: NodeSnapshot[] = Array.from({ length: 12 }, (_, i) =>
      node(`p${i}`, {
        zone: 'ab'[i % 2]!,
        load: {
          0: Math.floor(rnd() * 350),
          1: Math.floor(rnd() * 350),
          2: Math.floor(rnd() * 100),
        },
      }),
    );
    const rs = Array.from({ length: 60 }, (_, i) =>
      room(`r${i}`, { listeners: Math.floor(rnd() ** 4 * 3000) }),
    );
    const before = projected(schedule(cluster(nodes, [])));
    const d = schedule(cluster(nodes, rs));
    const after = projected(d);
    const touched = new Set(placed(d));
    expect(touched.size).toBeGreaterThan(10);
    for (const w of touched) {
      expect(after.get(w)!).toBeLessThanOrEqual(350);
      expect(after.get(w)!).toBeGreaterThan(before.get(w)!);
    }
  });

  it('counts the unfilled reservation of a shard placed in an earlier pass', () => {
    // e2 was placed last pass for a 700-listener room; its worker reports nothing yet.
    const big = room('big', {
      listeners: 700,
      shards: [
        shard('o1', 'origin', 'p1', 0, 700),
        shard('e2', 'edge', 'p1', 1, 0, { state: 'Pending' }),
      ],
    });
    const d = schedule(
      cluster([node('p1', { workers: 2, load: { 0: 300 } }), node('p2')], [big, room('new')]),
    );
    expect(placed(d)).toEqual(['p2/0']);
  });

  it('places 10 rooms in one pass without double-booking a worker', () => {
    // Two workers of 350 units; each room needs 100 listeners + 10 speakers = 110: three per worker.
    const d = schedule(cluster([node('p1', { workers: 2 })], rooms(10, { listeners: 100 })));
    const per = new Map<string, number>();
    for (const p of placed(d)) per.set(p, (per.get(p) ?? 0) + 1);
    expect(per).toEqual(
      new Map([
        ['p1/0', 3],
        ['p1/1', 3],
      ]),
    );
    expect(d.stats).toMatchObject({ origins: 6, unschedulable: 4 });
    expect(d.workers.map((w) => w.projected)).toEqual([330, 330]);
  });

  it('packs a pass of small rooms onto as few workers as it can (best fit)', () => {
    const d = schedule(cluster([node('p1'), node('p2')], rooms(10)));
    // 60 units each: five per worker.
    expect(new Set(placed(d))).toEqual(new Set(['p1/0', 'p1/1']));
  });

  it('replaces a lost origin before it places new rooms', () => {
    const lost = room('z-lost', { listeners: 50, shards: [shard('o1', 'origin', 'gone', 0, 50)] });
    const d = schedule(
      cluster([node('p1', { workers: 1, load: { 0: 240 } })], [room('a-new'), lost]),
    );
    expect(kinds(d, 'z-lost')).toEqual(['retire:o1:lost', 'placeOrigin']);
    expect(d.rooms.find((r) => r.roomId === 'a-new')?.unschedulable?.reason).toBe(
      'NoRegionWithCapacity',
    );
  });

  it('ignores pods of a region without a MediaRegion but keeps their shards', () => {
    const r = room('r', {
      listeners: 10,
      shards: [shard('o1', 'origin', 'x1', 0, 10, { region: 'x' })],
    });
    const d = schedule(cluster([node('x1', { region: 'x' })], [r, room('new')], [region('eu')]));
    expect(d.assignments.get('r')).toEqual(r.shards);
    expect(d.rooms.find((x) => x.roomId === 'new')?.unschedulable?.reason).toBe('NoLiveNodes');
  });
});
