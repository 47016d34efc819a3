// Where a participant joins: a pure function of the route, the live nodes and the request.
// Region: the client's hint, then its measured RTTs (lowest first), then the room's origin region;
// the first with a usable shard wins. Shard: speakers and hosts go to the region's origin; listeners
// to the least-filled Ready edge with headroom (the origin when the room has no edge yet).
//
// A listener's shard is not final here: a pod counts a listener once it has connected, and this
// process sees that count a heartbeat and a cache later, so in a join storm every join would pick the
// same "least-filled" edge. Listeners get their choices instead, each with the pod's count and when
// it was sent; the join script (stage/lua.ts) adds the seats taken since then and seats the listener
// atomically on the least-filled choice of the first region with room.
import type { NodeHeartbeat, RoomRoute, RoutedShard } from '../../../common/src/contract/index.js';
import { HttpProblem } from '../http/problem.js';

export interface Placement {
  region: string;
  shard: RoutedShard;
  node: NodeHeartbeat;
}

export interface SeatChoice extends Placement {
  /** Listeners the pod reported (or the route, when it says more). */
  reported: number;
  /** When the pod sent that report (ms): seats taken after it are not in `reported`. */
  reportedAt: number;
}

/** A listener's choices: regions in preference order, each with its shards that have room. */
export interface SeatChoices {
  limit: number;
  regions: SeatChoice[][];
}

/** Speakers: their placement. Listeners: the seats the join script chooses from. */
export type Selection = { placement: Placement } | { seats: SeatChoices };

export interface SelectInput {
  route: RoomRoute;
  nodes: readonly NodeHeartbeat[];
  produces: boolean;
  region?: string | undefined;
  rtts?: Record<string, number> | undefined;
}

export function regionOrder(
  route: RoomRoute,
  region?: string,
  rtts?: Record<string, number>,
): string[] {
  const order: string[] = [];
  const add = (r: string | undefined): void => {
    if (r && !order.includes(r)) order.push(r);
  };
  add(region);
  for (const [r] of Object.entries(rtts ?? {}).sort((a, b) => a[1] - b[1])) add(r);
  add(route.region);
  for (const shard of route.shards) add(shard.region);
  return order;
}

export function selectPlacement(input: SelectInput): Selection {
  const { route, nodes, produces } = input;
  if (route.shards.length === 0 || !['Scheduled', 'Live'].includes(route.phase))
    throw new HttpProblem('room-not-placed', `room is ${route.phase}; retry shortly`, {
      headers: { 'Retry-After': '2' },
    });
  const byId = new Map(nodes.map((n) => [n.node, n]));
  const usable = (shard: RoutedShard): NodeHeartbeat | undefined => {
    if (shard.state !== 'Ready') return undefined;
    const node = byId.get(shard.node);
    if (!node || node.draining) return undefined;
    if (!node.workers.some((w) => w.index === shard.worker && w.alive)) return undefined;
    return node;
  };
  const choice = (region: string, shard: RoutedShard, node: NodeHeartbeat): SeatChoice => {
    const reported = node.shards.find(
      (s) => s.room === route.room && s.shard === shard.id,
    )?.listeners;
    return {
      region,
      shard,
      node,
      reported: Math.max(reported ?? 0, shard.listeners),
      reportedAt: node.sentAt,
    };
  };
  const limit = route.listenersPerShard;
  const regions: SeatChoice[][] = [];
  let anyReady = false;
  for (const region of regionOrder(route, input.region, input.rtts)) {
    const inRegion = route.shards.filter((s) => s.region === region);
    const origin = inRegion.find((s) => s.role === 'origin');
    if (produces) {
      const node = origin && usable(origin);
      if (origin && node) return { placement: { region, shard: origin, node } };
      continue;
    }
    const choices: SeatChoice[] = [];
    for (const shard of inRegion.filter((s) => s.role === 'edge')) {
      const node = usable(shard);
      if (!node) continue;
      anyReady = true;
      choices.push(choice(region, shard, node));
    }
    if (
      choices.length === 0 &&
      origin &&
      !inRegion.some((s) => s.role === 'edge' && s.state === 'Ready')
    ) {
      const node = usable(origin);
      if (node) {
        anyReady = true;
        choices.push(choice(region, origin, node));
      }
    }
    const withRoom = choices.filter((c) => c.reported < limit);
    if (withRoom.length > 0) regions.push(withRoom);
  }
  if (regions.length > 0) return { seats: { limit, regions } };
  if (produces && !route.shards.some((s) => s.role === 'origin' && usable(s)))
    throw new HttpProblem('room-not-placed', 'the room has no ready origin shard yet', {
      headers: { 'Retry-After': '2' },
    });
  throw new HttpProblem(
    'no-capacity',
    anyReady
      ? 'every shard of the room is full; an edge is being added'
      : 'no ready shard of the room on a live media pod',
    { headers: { 'Retry-After': '2' } },
  );
}
