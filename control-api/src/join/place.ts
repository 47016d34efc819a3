// A join's placement: read the room (state and route) and the live nodes, choose the region and shard
// (join/select.ts), record the participant. A listener's seat is taken by the join script, which
// picks among the choices atomically with the seats taken since each pod's report (a join storm
// cannot overfill an edge, and concurrent joins cannot share the last seat).
import {
  DecodeError,
  RoomRoute,
  canProduce,
  decodeJson,
} from '../../../common/src/contract/index.js';
import type { Principal } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { HttpProblem } from '../http/problem.js';
import { NoSeat, type ChangeResult } from '../stage/store.js';
import { selectPlacement, type Placement } from './select.js';

// Decoded routes by their JSON: a route changes rarely, joins read it constantly.
const routeCache = new Map<string, RoomRoute>();
function decodeRoute(room: string, json: string): RoomRoute {
  let route = routeCache.get(json);
  if (route === undefined) {
    route = decodeJson(RoomRoute, json, `route of ${room}`);
    if (routeCache.size >= 1_000) routeCache.clear();
    routeCache.set(json, route);
  }
  return route;
}

export interface JoinWish {
  region?: string | undefined;
  rtts?: Record<string, number> | undefined;
  /** The participant record, without its placement (stored with the room's participants). */
  participant: Record<string, string>;
}

export async function placeAndClaim(
  deps: Deps,
  room: string,
  principal: Principal,
  wish: JoinWish,
): Promise<{ placement: Placement; joined: ChangeResult }> {
  const [check, nodes] = await Promise.all([
    deps.store.joinCheck(room, principal),
    deps.liveNodes.get(),
  ]);
  if (check.routeJson === undefined)
    throw new HttpProblem(
      'room-not-placed',
      'the operator has not placed the room yet; retry shortly',
      { headers: { 'Retry-After': '2' } },
    );
  let route: RoomRoute;
  try {
    route = decodeRoute(room, check.routeJson);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    deps.logger.error({ err: error, room }, 'corrupt route');
    throw new HttpProblem('room-not-placed', 'the room route is being repaired; retry shortly', {
      headers: { 'Retry-After': '2' },
    });
  }
  const selection = selectPlacement({
    route,
    nodes,
    produces: canProduce(check.role),
    region: wish.region,
    rtts: wish.rtts,
  });
  if ('placement' in selection) {
    const { region, shard, node } = selection.placement;
    const joined = await deps.store.join(room, principal, {
      ...wish.participant,
      shard: shard.id,
      node: node.node,
      region,
    });
    return { placement: selection.placement, joined };
  }
  const { limit, regions } = selection.seats;
  try {
    const joined = await deps.store.join(room, principal, {
      ...wish.participant,
      seats: {
        limit,
        regions: regions.map((choices) =>
          choices.map((c) => ({
            shard: c.shard.id,
            node: c.node.node,
            region: c.region,
            reported: c.reported,
            reportedAt: String(c.reportedAt),
          })),
        ),
      },
    });
    const placement = regions.flat().find((c) => c.shard.id === joined.shard)!;
    return { placement, joined };
  } catch (error) {
    if (!(error instanceof NoSeat)) throw error;
    throw new HttpProblem('no-capacity', error.message, { headers: { 'Retry-After': '2' } });
  }
}
