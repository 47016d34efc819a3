// The routing table as a pure function of a room's status, and the Redis writes that realise it:
// assign new shards first (pods start building routers), then the route (joins see them), then
// unassign what is gone. Every write is idempotent, so re-applying from status heals Redis.
import type { Shard } from '../../../../common/src/crd/audio-room.js';
import type { RoutingTable } from '../../../../common/src/contract/routing-table.js';
import type {
  RoomRoute,
  RoutedShard,
  ShardAssignmentRecord,
} from '../../../../common/src/contract/routing.js';
import type { AudioRoomStatus } from '../../../../common/src/crd/audio-room.js';
import { roomIdOf } from './snapshot.js';
import type { AudioRoom } from './types.js';

function routed(shards: readonly Shard[]): RoutedShard[] {
  const origin = shards.find((s) => s.role === 'origin');
  return shards.map((s) => ({ ...s, ...(s.role === 'edge' && origin ? { from: origin.id } : {}) }));
}

export function routeOf(room: AudioRoom, status: AudioRoomStatus, now: number): RoomRoute {
  return {
    room: roomIdOf(room),
    generation: room.metadata.generation ?? 0,
    phase: status.phase ?? 'Pending',
    region: status.region ?? '',
    speakerLimit: room.spec.speakerLimit ?? 10,
    listenersPerShard: room.spec.sharding?.listenersPerShard ?? 500,
    shards: routed(status.shards ?? []),
    updatedAt: now,
  };
}

export function assignmentsOf(
  room: AudioRoom,
  shards: readonly Shard[],
  now: number,
): Array<{ node: string; record: ShardAssignmentRecord }> {
  const id = roomIdOf(room);
  const origin = shards.find((s) => s.role === 'origin');
  const speakerLimit = room.spec.speakerLimit ?? 10;
  return routed(shards).map((shard) => ({
    node: shard.node,
    record: {
      room: id,
      shard,
      ...(shard.role === 'edge' && origin
        ? { origin: { shard: origin.id, node: origin.node, worker: origin.worker } }
        : {}),
      speakerLimit,
      assignedAt: now,
    },
  }));
}

/** What identifies a route's content (its timestamp aside): skip writes when unchanged. */
export function routeFingerprint(route: RoomRoute): string {
  return JSON.stringify({ ...route, updatedAt: 0 });
}

/**
 * Writes the room's route and assignments from status; unassigns `previous` shards that are no
 * longer in status.
 */
export async function applyRoutes(
  table: RoutingTable,
  room: AudioRoom,
  status: AudioRoomStatus,
  previous: readonly Shard[],
  now: number,
): Promise<void> {
  const shards = status.shards ?? [];
  const id = roomIdOf(room);
  await Promise.all(assignmentsOf(room, shards, now).map((a) => table.assign(a.node, a.record)));
  await table.putRoute(routeOf(room, status, now));
  const kept = new Set(shards.map((s) => `${s.node}\n${s.id}`));
  await Promise.all(
    previous
      .filter((s) => !kept.has(`${s.node}\n${s.id}`))
      .map((s) => table.unassign(s.node, id, s.id)),
  );
}

/** Unassigns every shard of the room (status's and the route's) and deletes its route. */
export async function removeRoutes(
  table: RoutingTable,
  id: string,
  shards: readonly Shard[],
): Promise<void> {
  const route = await table.getRoute(id).catch(() => undefined);
  const all = new Map<string, { node: string; id: string }>();
  for (const s of [...shards, ...(route?.shards ?? [])]) all.set(`${s.node}\n${s.id}`, s);
  await Promise.all([...all.values()].map((s) => table.unassign(s.node, id, s.id)));
  await table.deleteRoute(id);
}
