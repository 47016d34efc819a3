// The Redis keyspace shared by the operator, the media pods and the control API. Every key a Lua
// script touches together shares one hash tag, so the same code runs on Redis Cluster:
//   {registry}  the node registry (small: one entry per media pod) and drain requests;
//   {n:<node>}  what one media pod must realise (its shard assignments);
//   {r:<room>}  everything about one room (routing, participants, stage, events);
//   {presence}  the stream of ended media sessions (media pods → control API).

/** A room id is the AudioRoom's "namespace/name" (the operator's work-queue key). */
export function roomId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function parseRoomId(id: string): { namespace: string; name: string } {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1)
    throw new Error(`invalid room id ${JSON.stringify(id)}`);
  return { namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}

export const PREFIX = 'amphi';

export const registryKeys = {
  /** ZSET member=nodeId score=expiry (ms since epoch): which heartbeats are live. */
  nodes: `${PREFIX}:{registry}:nodes`,
  /** STRING (JSON NodeHeartbeat) with a TTL: a node's last heartbeat. */
  node: (nodeId: string): string => `${PREFIX}:{registry}:node:${nodeId}`,
  /** STRING (JSON DrainRequest): the operator asks this node to drain. */
  drain: (nodeId: string): string => `${PREFIX}:{registry}:drain:${nodeId}`,
  /** Pub/sub channel: a heartbeat arrived (payload: node id). Lets watchers react at once. */
  heartbeats: `${PREFIX}:{registry}:heartbeats`,
} as const;

export const nodeKeys = (nodeId: string) =>
  ({
    /** HASH field=shardKey value=JSON ShardAssignmentRecord: the shards this node must host. */
    assignments: `${PREFIX}:{n:${nodeId}}:assignments`,
    /** Pub/sub channel: this node's assignments changed (payload: room id). */
    assignmentsChanged: `${PREFIX}:{n:${nodeId}}:assignments:changed`,
  }) as const;

export const roomKeys = (room: string) =>
  ({
    /** STRING (JSON RoomRoute): where the room's shards are, for joins. */
    route: `${PREFIX}:{r:${room}}:route`,
    /** Pub/sub channel of room events (stage changes, counts) that media pods forward. */
    events: `${PREFIX}:{r:${room}}:events`,
    /** Prefix for per-room keys owned by the control API (participants, queue, ...). */
    prefix: `${PREFIX}:{r:${room}}:`,
  }) as const;

export const presenceKeys = {
  /** STREAM of SessionEnded entries: media pods add, the control API's consumer group reads. */
  ended: `${PREFIX}:{presence}:ended`,
  /** HASH join id → SessionStarted JSON: the sessions a media pod (by node id) holds now. */
  sessions: (node: string) => `${PREFIX}:{presence}:sessions:${node}`,
  /** SET of node ids that have a sessions hash (the sweep's list). */
  nodes: `${PREFIX}:{presence}:nodes`,
  /** STRING lease: which control API replica runs the never-connected sweep now. */
  unconnectedSweepLease: `${PREFIX}:{presence}:unconnected-sweep`,
} as const;

/** SET of room ids that have a route: lets the operator find stale routes after a restart. */
export const routedRoomsKey = `${PREFIX}:{routes}:rooms`;

/** Field of a node's assignment hash: unique per shard of a room. */
export function shardKey(room: string, shardId: string): string {
  return `${room}#${shardId}`;
}
