// Pure: the scheduler's ClusterSnapshot from the AudioRoom and MediaRegion objects and the live
// heartbeats. Per-shard listeners and states come from the heartbeat of the pod hosting the shard;
// per-worker load from its WorkerReports. No I/O, no clock (the caller passes `now`).
import type { Shard } from '../../../../common/src/crd/audio-room.js';
import type { HostedShard, NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import { roomId, shardKey } from '../../../../common/src/contract/keys.js';
import { DEFAULT_CAPACITY } from '../../scheduler/capacity.js';
import type {
  ClusterSnapshot,
  NodeSnapshot,
  RegionSnapshot,
  RoomSnapshot,
  ShardSnapshot,
} from '../../scheduler/types.js';
import type { AudioRoom, MediaRegionObject } from './types.js';

/** The heartbeats by node, and every hosted shard by node and room#shard. */
export class HeartbeatIndex {
  readonly nodes = new Map<string, NodeHeartbeat>();
  readonly #hosted = new Map<string, HostedShard>();

  constructor(heartbeats: readonly NodeHeartbeat[]) {
    for (const hb of heartbeats) {
      if (this.nodes.has(hb.node)) continue;
      this.nodes.set(hb.node, hb);
      for (const s of hb.shards) this.#hosted.set(`${hb.node}\n${shardKey(s.room, s.shard)}`, s);
    }
  }

  /** What the pod `node` reports about shard `shard` of `room`, if it hosts it. */
  hosted(node: string, room: string, shard: string): HostedShard | undefined {
    return this.#hosted.get(`${node}\n${shardKey(room, shard)}`);
  }
}

export function roomIdOf(room: AudioRoom): string {
  return roomId(room.metadata.namespace, room.metadata.name);
}

export function regionSnapshot(obj: MediaRegionObject): RegionSnapshot {
  const c = obj.spec.capacity ?? {};
  const out: RegionSnapshot = {
    name: obj.spec.region,
    capacity: {
      listenersPerWorker: c.listenersPerWorker ?? DEFAULT_CAPACITY.listenersPerWorker,
      targetUtilizationPercent:
        c.targetUtilizationPercent ?? DEFAULT_CAPACITY.targetUtilizationPercent,
      highWatermarkPercent: c.highWatermarkPercent ?? DEFAULT_CAPACITY.highWatermarkPercent,
      lowWatermarkPercent: c.lowWatermarkPercent ?? DEFAULT_CAPACITY.lowWatermarkPercent,
    },
  };
  if (obj.spec.location) out.location = { ...obj.spec.location };
  return out;
}

export function nodeSnapshot(hb: NodeHeartbeat): NodeSnapshot {
  return {
    id: hb.node,
    region: hb.region,
    zone: hb.zone,
    k8sNode: hb.k8sNode,
    draining: hb.draining,
    workers: hb.workers.map((w) => ({
      index: w.index,
      alive: w.alive,
      load: { listeners: w.consumers, producers: w.producers, cpuPercent: w.cpuPercent },
    })),
  };
}

/**
 * A status shard as the pods see it now: listeners and state from the hosting pod's heartbeat.
 * A shard its (live) pod does not report yet is Pending with no listeners; a shard on a pod
 * without a heartbeat keeps what status says (the scheduler drops it as lost).
 */
export function observeShard(
  room: string,
  shard: Shard,
  index: HeartbeatIndex,
  createdAt: number | undefined,
): ShardSnapshot {
  const out: ShardSnapshot = { ...shard };
  const hb = index.nodes.get(shard.node);
  if (hb !== undefined) {
    const hosted = index.hosted(shard.node, room, shard.id);
    out.listeners = hosted?.listeners ?? 0;
    out.state = hb.draining ? 'Draining' : hosted?.state === 'Ready' ? 'Ready' : 'Pending';
  }
  if (createdAt !== undefined) out.createdAt = createdAt;
  return out;
}

/** Speakers of a room: what its origin reports (edges carry pipe producers, not speakers). */
export function observedSpeakers(room: string, shards: readonly Shard[], index: HeartbeatIndex) {
  const origin = shards.find((s) => s.role === 'origin');
  return origin ? (index.hosted(origin.node, room, origin.id)?.speakers ?? 0) : 0;
}

export function roomSnapshot(room: AudioRoom, shards: readonly ShardSnapshot[]): RoomSnapshot {
  const sharding = room.spec.sharding ?? {};
  return {
    id: roomIdOf(room),
    regions: room.spec.regions ?? [],
    listenersPerShard: sharding.listenersPerShard ?? 500,
    maxShards: sharding.maxShards ?? 50,
    speakerLimit: room.spec.speakerLimit ?? 10,
    shards,
    listeners: shards.reduce((n, s) => n + s.listeners, 0),
  };
}

export interface SnapshotInput {
  rooms: readonly AudioRoom[];
  regions: readonly MediaRegionObject[];
  heartbeats: readonly NodeHeartbeat[];
  /** When a shard was created (young edges are not retired); undefined when unknown. */
  createdAt?: (room: string, shard: string) => number | undefined;
  now: number;
}

export interface BuiltSnapshot {
  snapshot: ClusterSnapshot;
  index: HeartbeatIndex;
}

export function buildSnapshot(input: SnapshotInput): BuiltSnapshot {
  const index = new HeartbeatIndex(input.heartbeats);
  const createdAt = input.createdAt ?? (() => undefined);
  const rooms = input.rooms.map((room) => {
    const id = roomIdOf(room);
    const shards = (room.status?.shards ?? []).map((s) =>
      observeShard(id, s, index, createdAt(id, s.id)),
    );
    return roomSnapshot(room, shards);
  });
  const snapshot: ClusterSnapshot = {
    regions: input.regions.map(regionSnapshot),
    nodes: [...index.nodes.values()].map(nodeSnapshot),
    rooms,
    now: input.now,
  };
  return { snapshot, index };
}
