// Join and leave. The join path reads Redis only (room state + route in one script, the node registry
// through a short cache) and writes Redis only: no Kubernetes and no Cassandra call.
import { randomUUID } from 'node:crypto';
import {
  EmptyBody,
  JoinRequest,
  JoinResponse,
  RoomParams,
  StageResult,
} from '../../../common/src/api/schemas.js';
import {
  DecodeError,
  RoomRoute,
  canProduce,
  decodeJson,
  signJoinToken,
} from '../../../common/src/contract/index.js';
import type { Deps } from '../deps.js';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type Route } from '../http/route.js';
import { iceServers } from '../join/ice.js';
import { selectPlacement } from '../join/select.js';
import { contractRoom, requireUser } from './guards.js';

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

export function joinRoutes(deps: Deps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/rooms/{id}/join',
      operationId: 'joinRoom',
      summary:
        'Join a room: region and shard chosen, media pod URL, join token and ICE servers returned',
      tags: ['join'],
      params: RoomParams,
      body: JoinRequest,
      responses: { 200: { description: 'Where and how to connect', schema: JoinResponse } },
      problems: ['room-not-found', 'banned', 'room-not-placed', 'no-capacity'],
      async handler({ params, body, principal }) {
        requireUser(principal, 'joining');
        const room = contractRoom(deps, params.id);
        const [check, nodes] = await Promise.all([
          deps.store.joinCheck(room, principal),
          deps.liveNodes.get(),
        ]);
        if (check.routeJson === undefined)
          throw new HttpProblem(
            'room-not-placed',
            'the operator has not placed the room yet; retry shortly',
            {
              headers: { 'Retry-After': '2' },
            },
          );
        let route: RoomRoute;
        try {
          route = decodeRoute(room, check.routeJson);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          deps.logger.error({ err: error, room }, 'corrupt route');
          throw new HttpProblem(
            'room-not-placed',
            'the room route is being repaired; retry shortly',
            {
              headers: { 'Retry-After': '2' },
            },
          );
        }
        const placement = selectPlacement({
          route,
          nodes,
          produces: canProduce(check.role),
          region: body.region,
          rtts: body.rtts,
        });
        const name = body.name ?? principal.name;
        const { ttlSeconds, issuer } = deps.config.joinToken;
        const now = Math.floor(Date.now() / 1000);
        // The join's id: the token's jti and the participant's `join`, so a media pod's report that
        // this session ended removes the participant only if no newer join replaced it.
        const join = randomUUID();
        const token = await signJoinToken(
          {
            sub: principal.id,
            room,
            shard: placement.shard.id,
            node: placement.node.node,
            role: check.role,
            ...(name !== undefined ? { name } : {}),
          },
          deps.joinKey,
          { issuer, ttlSeconds, now, jti: join },
        );
        const joined = await deps.store.change(
          room,
          'join',
          principal,
          principal.id,
          JSON.stringify({
            name: name ?? '',
            shard: placement.shard.id,
            node: placement.node.node,
            region: placement.region,
            join,
          }),
        );
        return {
          status: 200,
          body: {
            room,
            user: principal.id,
            role: joined.role,
            region: placement.region,
            shard: placement.shard.id,
            node: placement.node.node,
            signalingUrl: placement.node.signalingUrl,
            token,
            expiresAt: now + ttlSeconds,
            iceServers: iceServers(deps.config.ice, principal.id, now),
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/rooms/{id}/leave',
      operationId: 'leaveRoom',
      summary: 'Leave a room (a speaker goes back to the audience)',
      tags: ['join'],
      params: RoomParams,
      body: EmptyBody,
      responses: { 200: { description: 'Left', schema: StageResult } },
      problems: ['room-not-found'],
      async handler({ params, principal }) {
        requireUser(principal, 'leaving');
        const room = contractRoom(deps, params.id);
        const result = await deps.store.change(room, 'leave', principal, principal.id);
        return {
          status: 200,
          body: { event: result.event, eventId: result.eventId, changed: result.eventId !== '' },
        };
      },
    }),
  ];
}
