// Rooms: create (the AudioRoom CR + hot state, creator becomes host), get (live state), list, end.
import { randomBytes } from 'node:crypto';
import {
  CreateRoomRequest,
  ListRoomsQuery,
  RoomList,
  RoomParams,
  RoomState,
  type RoomState as RoomStateT,
} from '../../../common/src/api/schemas.js';
import { RoomRoute, decodeJson } from '../../../common/src/contract/index.js';
import type { Deps } from '../deps.js';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type Route } from '../http/route.js';
import type { AudioRoomObject } from '../rooms/audio-rooms.js';
import type { Snapshot } from '../stage/store.js';
import { contractRoom } from './guards.js';

const DEFAULT_SPEAKER_LIMIT = 10;

function routeOf(snapshot: Snapshot | undefined): RoomRoute | undefined {
  if (!snapshot?.routeJson) return undefined;
  try {
    return decodeJson(RoomRoute, snapshot.routeJson, 'route');
  } catch {
    return undefined;
  }
}

export function roomView(
  deps: Deps,
  cr: AudioRoomObject,
  snapshot: Snapshot | undefined,
): RoomStateT {
  const route = routeOf(snapshot);
  const roles = snapshot?.roles ?? {};
  const who = (role: string): string[] =>
    Object.keys(roles)
      .filter((u) => roles[u] === role)
      .sort();
  const ended = snapshot?.meta.ended === '1';
  const participants = snapshot?.participants ?? 0;
  const stagePresent = snapshot?.stagePresent ?? 0;
  const createdAt = cr.metadata.creationTimestamp;
  const region = route?.region || cr.status?.region;
  return {
    id: cr.metadata.name,
    room: contractRoom(deps, cr.metadata.name),
    title: cr.spec.title,
    phase: ended ? 'Ended' : (route?.phase ?? cr.status?.phase ?? 'Pending'),
    ...(region ? { region } : {}),
    regions: cr.spec.regions ?? [],
    speakerLimit: cr.spec.speakerLimit ?? DEFAULT_SPEAKER_LIMIT,
    ...(createdAt ? { createdAt: new Date(createdAt).toISOString() } : {}),
    ended,
    counts: {
      participants,
      listeners: Math.max(0, participants - stagePresent),
      stage: Object.keys(roles).length,
      hands: snapshot?.handQueue.length ?? 0,
    },
    hosts: who('host'),
    moderators: who('moderator'),
    speakers: who('speaker'),
    muted: [...(snapshot?.muted ?? [])].sort(),
    invited: [...(snapshot?.invited ?? [])].sort(),
    handQueue: snapshot?.handQueue ?? [],
  };
}

const summary = (view: RoomStateT) => {
  const { id, room, title, phase, region, regions, speakerLimit, createdAt, ended, counts } = view;
  return {
    id,
    room,
    title,
    phase,
    ...(region ? { region } : {}),
    regions,
    speakerLimit,
    ...(createdAt ? { createdAt } : {}),
    ended,
    counts,
  };
};

export function roomRoutes(deps: Deps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/rooms',
      operationId: 'createRoom',
      summary: 'Create a room (an AudioRoom resource); the caller becomes its host',
      tags: ['rooms'],
      body: CreateRoomRequest,
      responses: { 201: { description: 'Created', schema: RoomState } },
      problems: ['room-exists'],
      async handler({ body, principal }) {
        let host = principal.id;
        if (principal.kind === 'platform') {
          if (!body.host)
            throw new HttpProblem('validation-error', 'body/host is required with an API key', {
              errors: [{ path: 'body/host', message: 'required with an API key' }],
            });
          host = body.host;
        } else if (body.host !== undefined && body.host !== principal.id)
          throw new HttpProblem('forbidden', 'only platform API keys may name another host');
        const name = body.name ?? `room-${randomBytes(5).toString('hex')}`;
        const speakerLimit = body.speakerLimit ?? DEFAULT_SPEAKER_LIMIT;
        const cr = await deps.rooms.create(
          name,
          {
            title: body.title,
            ...(body.regions ? { regions: body.regions } : {}),
            sharding: { listenersPerShard: body.listenersPerShard ?? 500, maxShards: 50 },
            speakerLimit,
          },
          { 'app.kubernetes.io/managed-by': 'amphi-control-api' },
        );
        const room = contractRoom(deps, name);
        await deps.store.change(
          room,
          'create',
          principal,
          host,
          JSON.stringify({ title: body.title, speakerLimit }),
        );
        const view = roomView(deps, cr, await deps.store.snapshot(room));
        return { status: 201, body: view, headers: { Location: `/v1/rooms/${name}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/rooms/{id}',
      operationId: 'getRoom',
      summary:
        'A room with its live state: stage, moderators, hand queue, counts, phase and region',
      tags: ['rooms'],
      params: RoomParams,
      responses: { 200: { description: 'The room', schema: RoomState } },
      problems: ['room-not-found'],
      async handler({ params, principal }) {
        const room = contractRoom(deps, params.id);
        const [cr, snapshot] = await Promise.all([
          deps.rooms.get(params.id),
          deps.store.snapshot(room),
        ]);
        if (!cr) throw new HttpProblem('room-not-found', `no room ${params.id}`);
        const view = roomView(deps, cr, snapshot);
        // Who raised a hand is for moderators (and the platform); everyone sees how many.
        const role = snapshot?.roles[principal.id];
        if (principal.kind !== 'platform' && role !== 'host' && role !== 'moderator')
          view.handQueue = [];
        return { status: 200, body: view };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/rooms',
      operationId: 'listRooms',
      summary: 'Rooms of the namespace (created here or with kubectl), with counts',
      tags: ['rooms'],
      query: ListRoomsQuery,
      responses: { 200: { description: 'A page of rooms', schema: RoomList } },
      problems: [],
      async handler({ query }) {
        const page = await deps.rooms.list(Number(query.limit ?? 50), query.continue);
        const items = await Promise.all(
          page.items.map(async (cr) =>
            summary(
              roomView(deps, cr, await deps.store.snapshot(contractRoom(deps, cr.metadata.name))),
            ),
          ),
        );
        return {
          status: 200,
          body: { items, ...(page.continue ? { continue: page.continue } : {}) },
        };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/rooms/{id}',
      operationId: 'endRoom',
      summary: 'End a room (hosts and platform keys): everyone is told, the AudioRoom is deleted',
      tags: ['rooms'],
      params: RoomParams,
      responses: { 204: { description: 'Ended' } },
      problems: ['room-not-found'],
      async handler({ params, principal }) {
        const room = contractRoom(deps, params.id);
        try {
          await deps.store.change(room, 'end', principal);
        } catch (error) {
          // A kubectl-made room nobody used has no hot state: the platform may still end it.
          if (!(
            error instanceof HttpProblem &&
            error.kind === 'room-not-found' &&
            principal.kind === 'platform'
          ))
            throw error;
        }
        if (!(await deps.rooms.delete(params.id)) && principal.kind === 'platform')
          throw new HttpProblem('room-not-found', `no room ${params.id}`);
        return { status: 204 };
      },
    }),
  ];
}
