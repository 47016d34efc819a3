// The routing table: the operator's placement decisions as the data plane and the join path read
// them. AudioRoom.status is the durable copy; this is the fast one, rebuilt from status when lost.
import { Type, type Static } from '@sinclair/typebox';
import { Shard } from '../crd/audio-room.js';

/** One shard as routed: the status shard plus where an edge is fed from. */
export const RoutedShard = Type.Composite([
  Shard,
  Type.Object({
    /** For an edge: the id of the origin shard whose producers it receives. */
    from: Type.Optional(Type.String()),
  }),
]);

export const RoomRoute = Type.Object({
  room: Type.String({ minLength: 1 }),
  /** AudioRoom metadata.generation the route was computed for. */
  generation: Type.Integer({ minimum: 0 }),
  phase: Type.String(),
  region: Type.String(),
  speakerLimit: Type.Integer({ minimum: 1 }),
  listenersPerShard: Type.Integer({ minimum: 1 }),
  shards: Type.Array(RoutedShard),
  updatedAt: Type.Integer({ minimum: 0 }),
});

/** One entry of a node's assignment hash: a shard it must host, and the origin to pipe from. */
export const ShardAssignmentRecord = Type.Object({
  room: Type.String({ minLength: 1 }),
  shard: RoutedShard,
  /** For an edge: where its origin lives, so the node can open the pipe. */
  origin: Type.Optional(
    Type.Object({ shard: Type.String(), node: Type.String(), worker: Type.Integer() }),
  ),
  speakerLimit: Type.Integer({ minimum: 1 }),
  assignedAt: Type.Integer({ minimum: 0 }),
});

export type RoutedShard = Static<typeof RoutedShard>;
export type RoomRoute = Static<typeof RoomRoute>;
export type ShardAssignmentRecord = Static<typeof ShardAssignmentRecord>;
