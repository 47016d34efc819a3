// Stage moderation: hands, invitations, audience, mutes, removals, bans and roles. Each is one
// atomic script (stage/lua.ts) that also records and publishes the event.
import { Type } from '@sinclair/typebox';
import {
  EmptyBody,
  HandQueue,
  Role,
  RoomParams,
  RoomUserParams,
  SetRoleRequest,
  StageResult,
  UserId,
  RoomName,
} from '../../../common/src/api/schemas.js';
import type { Deps } from '../deps.js';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type Route } from '../http/route.js';
import type { StageOp } from '../stage/store.js';
import { contractRoom, requireUser } from './guards.js';

const ACTIONS = ['invite', 'audience', 'mute', 'unmute', 'remove', 'ban', 'lower-hand'] as const;
const ACTION_OPS: Record<(typeof ACTIONS)[number], StageOp> = {
  invite: 'invite',
  audience: 'audience',
  mute: 'mute',
  unmute: 'unmute',
  remove: 'remove',
  ban: 'ban',
  'lower-hand': 'lower',
};
const ActionParams = Type.Object(
  { id: RoomName, user: UserId, action: Type.Union(ACTIONS.map((a) => Type.Literal(a))) },
  { additionalProperties: false },
);
const DecisionParams = Type.Object(
  { id: RoomName, decision: Type.Union([Type.Literal('accept'), Type.Literal('decline')]) },
  { additionalProperties: false },
);
const STAGE_PROBLEMS = [
  'room-not-found',
  'not-participant',
  'invalid-state',
  'stage-full',
] as const;

export function stageRoutes(deps: Deps): Route[] {
  const change = async (
    name: string,
    op: StageOp,
    principal: Parameters<Route['handler']>[0]['principal'],
    target: string,
    data = '',
  ) => {
    const room = contractRoom(deps, name);
    const r = await deps.store.change(room, op, principal, target, data);
    return { status: 200, body: { event: r.event, eventId: r.eventId, changed: r.eventId !== '' } };
  };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/rooms/{id}/hand',
      operationId: 'raiseHand',
      summary: 'Raise your hand (joins the end of the queue; repeating is a no-op)',
      tags: ['stage'],
      params: RoomParams,
      body: EmptyBody,
      responses: { 200: { description: 'Raised', schema: StageResult } },
      problems: [...STAGE_PROBLEMS],
      async handler({ params, principal }) {
        requireUser(principal, 'raising a hand');
        return change(params.id, 'raise', principal, principal.id);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/rooms/{id}/hand',
      operationId: 'lowerHand',
      summary: 'Lower your hand',
      tags: ['stage'],
      params: RoomParams,
      responses: { 200: { description: 'Lowered', schema: StageResult } },
      problems: [...STAGE_PROBLEMS],
      async handler({ params, principal }) {
        requireUser(principal, 'lowering a hand');
        return change(params.id, 'lower', principal, principal.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/rooms/{id}/hands',
      operationId: 'handQueue',
      summary: 'The hand-raise queue in order (moderators and hosts)',
      tags: ['stage'],
      params: RoomParams,
      responses: { 200: { description: 'The queue, first raised first', schema: HandQueue } },
      problems: ['room-not-found'],
      async handler({ params, principal }) {
        const snapshot = await deps.store.snapshot(contractRoom(deps, params.id));
        if (!snapshot || snapshot.meta.ended === '1')
          throw new HttpProblem('room-not-found', `no room ${params.id}`);
        const role = snapshot.roles[principal.id];
        if (principal.kind !== 'platform' && role !== 'host' && role !== 'moderator')
          throw new HttpProblem('forbidden', 'only moderators and hosts see the hand queue');
        return { status: 200, body: { items: snapshot.handQueue } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/rooms/{id}/invitation/{decision}',
      operationId: 'answerInvitation',
      summary: 'Accept (go on stage) or decline your invitation to the stage',
      tags: ['stage'],
      params: DecisionParams,
      body: EmptyBody,
      responses: { 200: { description: 'Answered', schema: StageResult } },
      problems: [...STAGE_PROBLEMS],
      async handler({ params, principal }) {
        requireUser(principal, 'answering an invitation');
        return change(params.id, params.decision, principal, principal.id);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/rooms/{id}/participants/{user}/{action}',
      operationId: 'moderate',
      summary:
        'Moderate a participant: invite to the stage, move to the audience, mute/unmute, remove, ban, lower their hand',
      tags: ['stage'],
      params: ActionParams,
      body: EmptyBody,
      responses: {
        200: { description: 'Done (changed=false when already so)', schema: StageResult },
      },
      problems: [...STAGE_PROBLEMS],
      async handler({ params, principal }) {
        return change(params.id, ACTION_OPS[params.action], principal, params.user);
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/rooms/{id}/participants/{user}/role',
      operationId: 'setRole',
      summary: 'Grant a role in the room (hosts and platform keys)',
      tags: ['stage'],
      params: RoomUserParams,
      body: SetRoleRequest,
      responses: { 200: { description: 'Role set', schema: StageResult } },
      problems: [...STAGE_PROBLEMS],
      async handler({ params, body, principal }) {
        return change(params.id, 'set-role', principal, params.user, body.role satisfies Role);
      },
    }),
  ];
}
