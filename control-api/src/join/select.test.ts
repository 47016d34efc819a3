// Region and shard choice: hints, RTTs, headroom, draining pods, speakers to the origin.
import { describe, expect, test } from '@jest/globals';
import { heartbeat, placedRoute } from '../../test/harness.js';
import { HttpProblem } from '../http/problem.js';
import { selectPlacement, type Placement, type SelectInput, type Selection } from './select.js';

const room = 'ns/r';
const nodes = [heartbeat('media-eu-0', 'eu-west'), heartbeat('media-us-0', 'us-east')];
/** A second eu-west edge, 3 listeners, on media-eu-0's worker 0. */
const e3 = {
  id: 'e3',
  role: 'edge',
  region: 'eu-west',
  node: 'media-eu-0',
  worker: 0,
  listeners: 3,
  state: 'Ready',
  from: 'o0',
} as const;

/** A speaker's placement, or where the join script seats a listener when no seat was taken yet. */
const pick = (selection: Selection): Placement => {
  if ('placement' in selection) return selection.placement;
  const [first] = selection.seats.regions;
  return first!.reduce((best, c) => (c.reported < best.reported ? c : best));
};
const select = (input: SelectInput): Placement => pick(selectPlacement(input));

const kind = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpProblem) return e.kind;
    throw e;
  }
  return undefined;
};

describe('join placement', () => {
  test('RTTs pick the nearest region; the hint beats them; speakers go to the origin', () => {
    const route = placedRoute(room);
    expect(
      select({ route, nodes, produces: false, rtts: { 'us-east': 10, 'eu-west': 50 } }).shard.id,
    ).toBe('e2');
    expect(
      select({ route, nodes, produces: false, region: 'eu-west', rtts: { 'us-east': 10 } }).shard
        .id,
    ).toBe('e1');
    expect(select({ route, nodes, produces: true, region: 'us-east' }).shard.id).toBe('o0');
  });

  test('full or draining edges are skipped; the next region takes over', () => {
    const route = placedRoute(room, { listenersPerShard: 10 }); // e1 holds 10: full
    expect(select({ route, nodes, produces: false, region: 'eu-west' }).region).toBe('us-east');
    const draining = [
      heartbeat('media-eu-0', 'eu-west'),
      heartbeat('media-us-0', 'us-east', { draining: true }),
    ];
    expect(kind(() => select({ route, nodes: draining, produces: false }))).toBe('no-capacity');
  });

  test('the least-filled edge wins, with fresher counts from the heartbeat', () => {
    const route = placedRoute(room, {
      shards: [...placedRoute(room).shards, e3],
    });
    expect(select({ route, nodes, produces: false, region: 'eu-west' }).shard.id).toBe('e3');
    const reported = [
      heartbeat('media-eu-0', 'eu-west', {
        shards: [
          {
            room,
            shard: 'e3',
            role: 'edge',
            worker: 0,
            state: 'Ready',
            listeners: 400,
            speakers: 0,
          },
        ],
      }),
      nodes[1]!,
    ];
    expect(select({ route, nodes: reported, produces: false, region: 'eu-west' }).shard.id).toBe(
      'e1',
    );
  });

  test('a room without ready shards or live pods is not placed / has no capacity', () => {
    expect(
      kind(() =>
        select({
          route: placedRoute(room, { phase: 'Pending', shards: [] }),
          nodes,
          produces: false,
        }),
      ),
    ).toBe('room-not-placed');
    expect(kind(() => select({ route: placedRoute(room), nodes: [], produces: true }))).toBe(
      'room-not-placed',
    );
    expect(kind(() => select({ route: placedRoute(room), nodes: [], produces: false }))).toBe(
      'no-capacity',
    );
  });

  test('listeners get every shard with room, per region in order, with the report and its time', () => {
    const sentAt = 1_700_000_010_500;
    const route = placedRoute(room, {
      listenersPerShard: 10,
      shards: [
        ...placedRoute(room).shards, // e1 (eu-west) holds 10: full; e2 (us-east) holds 5
        e3,
      ],
    });
    const selection = selectPlacement({
      route,
      nodes: [heartbeat('media-eu-0', 'eu-west', { sentAt }), nodes[1]!],
      produces: false,
      region: 'eu-west',
    });
    expect('seats' in selection && selection.seats.limit).toBe(10);
    const regions = 'seats' in selection ? selection.seats.regions : [];
    expect(regions.map((r) => r.map((c) => [c.region, c.shard.id, c.reported]))).toEqual([
      [['eu-west', 'e3', 3]],
      [['us-east', 'e2', 5]],
    ]);
    expect(regions[0]![0]!.reportedAt).toBe(sentAt);
    // Speakers are placed on the origin here, not seated.
    expect('placement' in selectPlacement({ route, nodes, produces: true })).toBe(true);
  });
});
