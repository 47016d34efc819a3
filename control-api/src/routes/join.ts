// Join and leave. The join path reads Redis only (room state + route in one script, the node registry
// through a short cache) and writes Redis only: no Kubernetes and no Cassandra call. Placement and the
// listener's seat: join/place.ts.
import { randomUUID } from 'node:crypto';
import {
  EmptyBody,
  JoinRequest,
  JoinResponse,
  RoomParams,
  StageResult,
} from '../../../common/src/api/schemas.js';
import { signJoinToken } from '../../../common/src/contract/index.js';
import type { Deps } from '../deps.js';
import { defineRoute, type Route } from '../http/route.js';
import { iceServers } from '../join/ice.js';
import { placeAndClaim } from '../join/place.js';
import { contractRoom, requireUser } from './guards.js';

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
        const name = body.name ?? principal.name;
        // The join's id: the token's jti and the participant's `join`, so a media pod's report that
        // this session ended removes the participant only if no newer join replaced it.
        const join = randomUUID();
        const { placement, joined } = await placeAndClaim(deps, room, principal, {
          region: body.region,
          rtts: body.rtts,
          // joinedAt: a join no pod ever recorded is reported ended once it can no longer connect.
          participant: { name: name ?? '', join, joinedAt: String(Date.now()) },
        });
        const { ttlSeconds, issuer } = deps.config.joinToken;
        const now = Math.floor(Date.now() / 1000);
        const token = await signJoinToken(
          {
            sub: principal.id,
            room,
            shard: placement.shard.id,
            node: placement.node.node,
            role: joined.role,
            ...(name !== undefined ? { name } : {}),
          },
          deps.joinKey,
          { issuer, ttlSeconds, now, jti: join },
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
