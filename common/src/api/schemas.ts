// The control API's wire schemas, shared by the server (validation, OpenAPI) and clients (SDK).
import { Type, type Static } from '@sinclair/typebox';

export const ROLES = ['host', 'moderator', 'speaker', 'listener'] as const;
export const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
export type Role = Static<typeof Role>;

/** An AudioRoom name (DNS label); the contract's room id is `<namespace>/<name>`. */
export const RoomName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
});
export const UserId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:@-]+$' });
export const RegionName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9-]+$' });

export const RoomParams = Type.Object({ id: RoomName }, { additionalProperties: false });
export const RoomUserParams = Type.Object(
  { id: RoomName, user: UserId },
  { additionalProperties: false },
);

export const CreateRoomRequest = Type.Object(
  {
    name: Type.Optional(RoomName),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    regions: Type.Optional(Type.Array(RegionName, { maxItems: 8, uniqueItems: true })),
    speakerLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    listenersPerShard: Type.Optional(Type.Integer({ minimum: 10, maximum: 100000 })),
    /** Platform API keys only: the user who becomes host. */
    host: Type.Optional(UserId),
  },
  { additionalProperties: false },
);
export type CreateRoomRequest = Static<typeof CreateRoomRequest>;

export const ListRoomsQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
    continue: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const RoomCounts = Type.Object({
  participants: Type.Integer({ minimum: 0 }),
  listeners: Type.Integer({ minimum: 0 }),
  stage: Type.Integer({ minimum: 0 }),
  hands: Type.Integer({ minimum: 0 }),
});

export const RoomSummary = Type.Object({
  id: RoomName,
  room: Type.String({ description: 'Contract room id: namespace/name.' }),
  title: Type.String(),
  phase: Type.String(),
  region: Type.Optional(Type.String()),
  regions: Type.Array(Type.String()),
  speakerLimit: Type.Integer(),
  createdAt: Type.Optional(Type.String({ format: 'date-time' })),
  ended: Type.Boolean(),
  counts: RoomCounts,
});
export type RoomSummary = Static<typeof RoomSummary>;

export const HandEntry = Type.Object({
  user: UserId,
  position: Type.Integer({ minimum: 1 }),
  raisedAt: Type.Integer({ description: 'ms since the epoch' }),
});
export type HandEntry = Static<typeof HandEntry>;

export const RoomState = Type.Composite([
  RoomSummary,
  Type.Object({
    hosts: Type.Array(UserId),
    moderators: Type.Array(UserId),
    speakers: Type.Array(UserId),
    muted: Type.Array(UserId),
    invited: Type.Array(UserId),
    handQueue: Type.Array(HandEntry),
  }),
]);
export type RoomState = Static<typeof RoomState>;

export const RoomList = Type.Object({
  items: Type.Array(RoomSummary),
  continue: Type.Optional(Type.String()),
});

export const SetRoleRequest = Type.Object({ role: Role }, { additionalProperties: false });

export const JoinRequest = Type.Object(
  {
    /** Preferred region (e.g. from the client's geo hint). */
    region: Type.Optional(RegionName),
    /** Measured round-trip times per region, in milliseconds. */
    rtts: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[a-z0-9-]{1,63}$' }),
        Type.Number({ minimum: 0, maximum: 60000 }),
        {
          maxProperties: 32,
        },
      ),
    ),
    name: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type JoinRequest = Static<typeof JoinRequest>;

export const IceServer = Type.Object({
  urls: Type.Array(Type.String()),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});
export type IceServer = Static<typeof IceServer>;

export const JoinResponse = Type.Object({
  room: Type.String(),
  user: UserId,
  role: Role,
  region: Type.String(),
  shard: Type.String(),
  node: Type.String(),
  signalingUrl: Type.String(),
  token: Type.String(),
  expiresAt: Type.Integer({ description: 'seconds since the epoch' }),
  iceServers: Type.Array(IceServer),
});
export type JoinResponse = Static<typeof JoinResponse>;

export const EmptyBody = Type.Object({}, { additionalProperties: false });

export const StageResult = Type.Object({
  event: Type.String({ description: 'Event type that was published.' }),
  eventId: Type.String({ description: 'Redis Stream entry id of the event.' }),
  changed: Type.Boolean({
    description: 'False when the request repeated a state already reached.',
  }),
});

/** A room event, as published on roomKeys(room).events and stored in the room's stream. */
export const RoomEvent = Type.Object({
  id: Type.Optional(Type.String()),
  type: Type.String(),
  room: Type.String(),
  actor: Type.String(),
  target: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  at: Type.Integer(),
  data: Type.Optional(Type.String()),
});
export type RoomEvent = Static<typeof RoomEvent>;

export const HandQueue = Type.Object({ items: Type.Array(HandEntry) });

export const Problem = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true },
);
export type Problem = Static<typeof Problem>;
