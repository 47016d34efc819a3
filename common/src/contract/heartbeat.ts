// What a media pod reports every second (the node registry entry), and what the operator asks of it.
import { Type, type Static } from '@sinclair/typebox';

export const HEARTBEAT_INTERVAL_MS = 1_000;
/** A node whose heartbeat is older than this is gone (three missed beats). */
export const HEARTBEAT_TTL_MS = 3_000;

export const WorkerReport = Type.Object({
  index: Type.Integer({ minimum: 0, maximum: 63 }),
  alive: Type.Boolean(),
  pid: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The WebRtcServer's port (UDP and TCP) for this worker. */
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Consumers on this worker's routers (listener streams, pipe consumers included). */
  consumers: Type.Integer({ minimum: 0 }),
  /** Producers on this worker's routers (speakers, pipe producers). */
  producers: Type.Integer({ minimum: 0 }),
  routers: Type.Integer({ minimum: 0 }),
  /** CPU of the worker process over the last interval, percent of one core. */
  cpuPercent: Type.Number({ minimum: 0 }),
});

export const HostedShard = Type.Object({
  room: Type.String({ minLength: 1 }),
  shard: Type.String({ minLength: 1 }),
  role: Type.Union([Type.Literal('origin'), Type.Literal('edge')]),
  worker: Type.Integer({ minimum: 0 }),
  /** Ready once its router exists (and, for an edge, its pipe from the origin is up). */
  state: Type.Union([Type.Literal('Ready'), Type.Literal('Pending'), Type.Literal('Failed')]),
  listeners: Type.Integer({ minimum: 0 }),
  speakers: Type.Integer({ minimum: 0 }),
  message: Type.Optional(Type.String({ maxLength: 1024 })),
});

export const NodeHeartbeat = Type.Object({
  /** Node registry id: the media pod's name. */
  node: Type.String({ minLength: 1, maxLength: 253 }),
  region: Type.String({ minLength: 1, maxLength: 63 }),
  zone: Type.String({ maxLength: 63 }),
  /** The Kubernetes node the pod runs on ('' outside Kubernetes). */
  k8sNode: Type.String({ maxLength: 253 }),
  /** Address clients reach the WebRtcServers at (the region's announce policy applied). */
  announcedAddress: Type.String({ maxLength: 253 }),
  /** WebSocket URL clients open with their join token. */
  signalingUrl: Type.String({ maxLength: 2048 }),
  /** Base URL other media pods use to negotiate pipe transports with this one. */
  pipeUrl: Type.String({ maxLength: 2048 }),
  draining: Type.Boolean(),
  /** Process start and this beat, ms since the epoch; seq grows by one per beat. */
  startedAt: Type.Integer({ minimum: 0 }),
  sentAt: Type.Integer({ minimum: 0 }),
  seq: Type.Integer({ minimum: 0 }),
  workers: Type.Array(WorkerReport, { maxItems: 64 }),
  shards: Type.Array(HostedShard),
});

/** The operator's request that a node drain (scale-down or deletion). */
export const DrainRequest = Type.Object({
  /** Why, for logs and events. */
  reason: Type.String({ maxLength: 256 }),
  requestedAt: Type.Integer({ minimum: 0 }),
  /** After this (ms since the epoch) the node may exit even if clients remain. */
  deadline: Type.Integer({ minimum: 0 }),
});

export type WorkerReport = Static<typeof WorkerReport>;
export type HostedShard = Static<typeof HostedShard>;
export type NodeHeartbeat = Static<typeof NodeHeartbeat>;
export type DrainRequest = Static<typeof DrainRequest>;
