// The media pod's WebSocket signalling: what a client (the SDK, a browser page) sends and what the
// pod answers or pushes. Every client message is a request with an id; every request gets exactly one
// response with the same id (ok, or an error with a code). Notifications carry no id.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Json = Type.Unknown();
/** RTP/DTLS/ICE objects are mediasoup's; the pod checks their shape through mediasoup itself. */
const MediasoupObject = Type.Object({}, { additionalProperties: true });

export const RequestId = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ minLength: 1, maxLength: 64 }),
]);

/** Envelope of every client message; `data` is checked against the method's schema. */
export const SignalingRequest = Type.Object({
  id: RequestId,
  method: Type.String({ minLength: 1, maxLength: 64 }),
  data: Type.Optional(Json),
});

export const SIGNALING_METHODS = {
  /** First message: the join token from the control API. Reply: JoinReply. */
  join: Type.Object({ token: Type.String({ minLength: 1, maxLength: 8192 }) }),
  /** One send transport (producing roles only) and one recv transport. Reply: TransportInfo. */
  createTransport: Type.Object({
    direction: Type.Union([Type.Literal('send'), Type.Literal('recv')]),
  }),
  connectTransport: Type.Object({
    transportId: Type.String({ minLength: 1, maxLength: 64 }),
    dtlsParameters: MediasoupObject,
  }),
  /**
   * Start receiving: the pod consumes every speaker now and every new one later (paused; each
   * arrives as a `newConsumer` notification and is resumed by `resumeConsumer`). Needs the recv
   * transport. Reply: { consumers: number }.
   */
  consume: Type.Object({ rtpCapabilities: MediasoupObject }),
  resumeConsumer: Type.Object({ consumerId: Type.String({ minLength: 1, maxLength: 64 }) }),
  /** Speakers, hosts and moderators only; audio only; on the origin shard. Reply: { id }. */
  produce: Type.Object({
    transportId: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.Literal('audio'),
    rtpParameters: MediasoupObject,
  }),
  /** The speaker mutes or unmutes itself (a server-side mute wins until lifted). Reply: {}. */
  setMuted: Type.Object({ muted: Type.Boolean() }),
  /** Leave cleanly; the pod closes the socket after replying. */
  leave: Type.Object({}),
} as const satisfies Record<string, TSchema>;

export type SignalingMethod = keyof typeof SIGNALING_METHODS;

export const SIGNALING_ERROR_CODES = [
  'bad-request', // not JSON, not an envelope, unknown method, data not matching its schema
  'out-of-order', // e.g. anything before join, produce before a send transport, a second join
  'unauthorized', // token forged, malformed, another issuer/audience
  'token-expired',
  'wrong-node', // the token names another media pod
  'no-shard', // the token's shard is not (or no longer) hosted here, or failed
  'forbidden', // the role may not do this (listeners produce)
  'not-found', // unknown transport or consumer id
  'draining', // the pod drains: rejoin through the control API
  'internal',
] as const;
export type SignalingErrorCode = (typeof SIGNALING_ERROR_CODES)[number];

export const SignalingResponse = Type.Union([
  Type.Object({ id: Type.Union([RequestId, Type.Null()]), ok: Type.Literal(true), data: Json }),
  Type.Object({
    /** null when the request was too broken to carry an id. */
    id: Type.Union([RequestId, Type.Null()]),
    ok: Type.Literal(false),
    error: Type.Object({
      code: Type.Union(SIGNALING_ERROR_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
    }),
  }),
]);

export const JoinReply = Type.Object({
  room: Type.String(),
  shard: Type.String(),
  role: Type.String(),
  user: Type.String(),
  routerRtpCapabilities: MediasoupObject,
});

export const TransportInfo = Type.Object({
  id: Type.String(),
  iceParameters: MediasoupObject,
  iceCandidates: Type.Array(MediasoupObject),
  dtlsParameters: MediasoupObject,
});

export const NewConsumer = Type.Object({
  id: Type.String(),
  producerId: Type.String(),
  kind: Type.Literal('audio'),
  rtpParameters: MediasoupObject,
  /** The speaker's user id and display name. */
  user: Type.String(),
  name: Type.Optional(Type.String()),
});

/** Pushed by the pod: { method, data }, no id. */
export const SignalingNotification = Type.Union([
  Type.Object({ method: Type.Literal('newConsumer'), data: NewConsumer }),
  Type.Object({
    method: Type.Literal('consumerClosed'),
    data: Type.Object({ consumerId: Type.String(), producerId: Type.String() }),
  }),
  /** Server-side mute (moderator) or lift; demotion closes the producer. */
  Type.Object({
    method: Type.Literal('producerPaused'),
    data: Type.Object({ producerId: Type.String(), paused: Type.Boolean(), by: Type.String() }),
  }),
  Type.Object({
    method: Type.Literal('producerClosed'),
    data: Type.Object({ producerId: Type.String(), reason: Type.String() }),
  }),
  /** A room event from Redis (stage changes, active speaker), forwarded as is. */
  Type.Object({ method: Type.Literal('roomEvent'), data: Json }),
  /** Room-wide counts, sent periodically (never one message per join to everyone). */
  Type.Object({
    method: Type.Literal('counts'),
    data: Type.Object({ listeners: Type.Integer(), speakers: Type.Integer() }),
  }),
  /** Go back to the control API for a new token after about backoffMs (jittered). */
  Type.Object({
    method: Type.Literal('rejoin'),
    data: Type.Object({ reason: Type.String(), backoffMs: Type.Integer({ minimum: 0 }) }),
  }),
]);

/** Room events on roomKeys(room).events that the media pod acts on (others are only forwarded). */
export const ModerationEvent = Type.Union([
  Type.Object({ type: Type.Literal('mute'), user: Type.String({ minLength: 1 }) }),
  Type.Object({ type: Type.Literal('unmute'), user: Type.String({ minLength: 1 }) }),
  /** The user leaves the stage: its producer is closed and it may no longer produce. */
  Type.Object({ type: Type.Literal('demote'), user: Type.String({ minLength: 1 }) }),
]);

/** Published by the origin's media pod on the room's channel. */
export const ActiveSpeakerEvent = Type.Object({
  type: Type.Literal('activeSpeaker'),
  user: Type.String(),
  shard: Type.String(),
  node: Type.String(),
});

export type SignalingRequest = Static<typeof SignalingRequest>;
export type SignalingResponse = Static<typeof SignalingResponse>;
export type SignalingNotification = Static<typeof SignalingNotification>;
export type JoinReply = Static<typeof JoinReply>;
export type TransportInfo = Static<typeof TransportInfo>;
export type NewConsumer = Static<typeof NewConsumer>;
export type ModerationEvent = Static<typeof ModerationEvent>;
export type ActiveSpeakerEvent = Static<typeof ActiveSpeakerEvent>;
export type MethodData<M extends SignalingMethod> = Static<(typeof SIGNALING_METHODS)[M]>;
