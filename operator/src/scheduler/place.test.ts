// schedule(): new rooms, regions, determinism and the unschedulable reasons.
import { describe, expect, it } from '@jest/globals';
import { actionsOf, cluster, kinds, node, placed, prng, region, room, shard } from './fixtures.js';
import { schedule } from './place.js';
import type { ClusterSnapshot, Decisions, NodeSnapshot, RoomSnapshot } from './types.js';

const plain = (d: Decisions): unknown => ({ ...d, assignments: [...d.assignments] });

describe('placing a new room', () => {
  it('puts the origin on the fullest worker that still fits (best fit)', () => {
    const d = schedule(cluster([node('p1', { load: { 0: 100, 1: 250, 2: 300 } })], [room('r')]));
    // Headroom 250, 100, 50, 350; the origin needs 50 listeners + 10 speakers = 60.
    expect(actionsOf(d, 'r')).toEqual([
      {
        kind: 'placeOrigin',
        cause: 'new',
        shard: {
          id: 'o1',
          role: 'origin',
          region: 'eu',
          node: 'p1',
          worker: 1,
          listeners: 0,
          state: 'Pending',
        },
        placement: { region: 'eu', zone: 'a', node: 'p1', k8sNode: 'k8s-p1', worker: 1 },
      },
    ]);
  });

  it('gives a room that starts big its origin and enough edges at once', () => {
    const nodes = ['p1', 'p2', 'p3'].map((id) => node(id));
    const d = schedule(cluster(nodes, [room('big', { listeners: 3000 })]));
    expect(kinds(d, 'big')).toEqual(['placeOrigin', ...Array(8).fill('addEdge')]);
    expect(new Set(placed(d)).size).toBe(9);
  });

  it('lists the new shards in the assignments, Pending', () => {
    const d = schedule(cluster([node('p1')], [room('r')]));
    expect(d.assignments.get('r')).toEqual([
      {
        id: 'o1',
        role: 'origin',
        region: 'eu',
        node: 'p1',
        worker: 0,
        listeners: 0,
        state: 'Pending',
      },
    ]);
  });
});

describe('regions', () => {
  const regions = [region('eu'), region('us')];
  const eu = node('eu1', { region: 'eu' });
  const us = node('us1', { region: 'us' });
  const fullUs = node('us1', { region: 'us', load: { 0: 350, 1: 350, 2: 350, 3: 350 } });
  const regionOf = (d: Decisions, id: string): string =>
    d.rooms.find((r) => r.roomId === id)!.region;

  it('honours the preferred order', () => {
    const d = schedule(cluster([eu, us], [room('r', { regions: ['us', 'eu'] })], regions));
    expect(regionOf(d, 'r')).toBe('us');
  });

  it('falls back to the next preferred region when the first is full', () => {
    const d = schedule(cluster([eu, fullUs], [room('r', { regions: ['us', 'eu'] })], regions));
    expect(regionOf(d, 'r')).toBe('eu');
  });

  it('does not leave its regions unless the room allows any region', () => {
    const strict = schedule(cluster([eu, fullUs], [room('r', { regions: ['us'] })], regions));
    expect(strict.rooms[0]?.unschedulable?.reason).toBe('NoRegionWithCapacity');
    const relaxed = schedule(
      cluster([eu, fullUs], [room('r', { regions: ['us'], anyRegion: true })], regions),
    );
    expect(regionOf(relaxed, 'r')).toBe('eu');
  });

  it('spreads rooms without a preference towards the region with more free capacity', () => {
    const d = schedule(cluster([eu, us], [room('a'), room('b')], regions));
    expect([regionOf(d, 'a'), regionOf(d, 'b')].sort()).toEqual(['eu', 'us']);
  });
});

describe('unschedulable', () => {
  const reason = (s: ClusterSnapshot, id = 'r'): string | undefined =>
    schedule(s).rooms.find((r) => r.roomId === id)?.unschedulable?.reason;

  it('when none of the room’s regions exists', () => {
    expect(reason(cluster([node('p1')], [room('r', { regions: ['mars'] })]))).toBe(
      'NoCandidateRegion',
    );
  });

  it('when the region has no live media pods', () => {
    expect(reason(cluster([], [room('r')]))).toBe('NoLiveNodes');
  });

  it('when every media pod is draining', () => {
    expect(reason(cluster([node('p1', { draining: true })], [room('r')]))).toBe('AllNodesDraining');
  });

  it('when no worker has the headroom', () => {
    const full = node('p1', { workers: 1, load: { 0: 300 } });
    expect(reason(cluster([full], [room('r')]))).toBe('NoRegionWithCapacity');
  });

  it('when the room would need more than maxShards, after adding what it may', () => {
    const r = room('r', {
      listeners: 2000,
      maxShards: 3,
      shards: [shard('o1', 'origin', 'p1', 0, 2000)],
    });
    const d = schedule(cluster([node('p1'), node('p2')], [r]));
    expect(kinds(d, 'r')).toEqual(['addEdge', 'addEdge']);
    expect(d.rooms[0]?.unschedulable).toEqual({
      reason: 'MaxShardsReached',
      message: 'needs 6 shards, maxShards is 3',
    });
  });

  it('when no other worker can take an edge', () => {
    const r = room('r', { listeners: 1000, shards: [shard('o1', 'origin', 'p1', 0, 1000)] });
    const d = schedule(cluster([node('p1', { workers: 2 })], [r]));
    expect(kinds(d, 'r')).toEqual(['addEdge']);
    expect(d.rooms[0]?.unschedulable?.reason).toBe('NoWorkerForEdge');
  });
});

describe('determinism', () => {
  function randomCluster(seed: number): ClusterSnapshot {
    const rnd = prng(seed);
    const nodes: NodeSnapshot[] = Array.from({ length: 8 }, (_, i) =>
      node(`p${i}`, {
        region: i < 5 ? 'eu' : 'us',
        zone: 'abc'[i % 3]!,
        draining: i === 3,
        load: { 0: Math.floor(rnd() * 200), 1: Math.floor(rnd() * 300) },
      }),
    );
    const rooms: RoomSnapshot[] = Array.from({ length: 40 }, (_, i) => {
      const listeners = Math.floor(rnd() ** 3 * 1500);
      const p = `p${Math.floor(rnd() * 8)}`;
      return room(`room-${i}`, {
        listeners,
        regions: i % 4 === 0 ? [] : [i % 3 === 0 ? 'us' : 'eu'],
        shards:
          i % 2 === 0
            ? [shard('o1', 'origin', p, 0, listeners, { region: p < 'p5' ? 'eu' : 'us' })]
            : [],
      });
    });
    return cluster(nodes, rooms, [region('eu'), region('us')]);
  }

  it('gives the same decisions for the same snapshot', () => {
    expect(plain(schedule(randomCluster(7)))).toEqual(plain(schedule(randomCluster(7))));
  });

  it('does not depend on the order of the snapshot’s lists', () => {
    const s = randomCluster(11);
    const shuffled: ClusterSnapshot = {
      regions: [...s.regions].reverse(),
      nodes: [...s.nodes].reverse().map((n) => ({ ...n, workers: [...n.workers].reverse() })),
      rooms: [...s.rooms].reverse(),
    };
    expect(plain(schedule(shuffled))).toEqual(plain(schedule(s)));
  });

  it('does not modify its input', () => {
    const s = randomCluster(3);
    const before = JSON.stringify(s);
    schedule(s);
    expect(JSON.stringify(s)).toBe(before);
  });

  it('reports each room’s time to a profiler, when given one', () => {
    const seen: string[] = [];
    let t = 0;
    schedule(randomCluster(5), { profile: { now: () => t++, record: (id) => seen.push(id) } });
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
  });
});
