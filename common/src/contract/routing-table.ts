// The routing table in Redis, written by the operator only: one route per room (read by joins) and
// one assignment hash per media pod (read by the pod that realises it). Writes are idempotent and
// the operator re-applies them from AudioRoom.status on every resync, so a partial write or an
// emptied Redis heals by itself.
import type { Redis } from 'ioredis';
import { DecodeError, decodeJson } from './codec.js';
import { nodeKeys, roomKeys, routedRoomsKey, shardKey } from './keys.js';
import { RoomRoute, ShardAssignmentRecord } from './routing.js';

export class RoutingTable {
  constructor(private readonly redis: Redis) {}

  async getRoute(room: string): Promise<RoomRoute | undefined> {
    const text = await this.redis.get(roomKeys(room).route);
    return text === null ? undefined : decodeJson(RoomRoute, text, `route of ${room}`);
  }

  async putRoute(route: RoomRoute): Promise<void> {
    await this.redis.set(roomKeys(route.room).route, JSON.stringify(route));
    await this.redis.sadd(routedRoomsKey, route.room);
  }

  async deleteRoute(room: string): Promise<void> {
    await this.redis.del(roomKeys(room).route);
    await this.redis.srem(routedRoomsKey, room);
  }

  /** Rooms that have a route (to find routes of rooms that no longer exist). */
  async routedRooms(): Promise<string[]> {
    return this.redis.smembers(routedRoomsKey);
  }

  async assign(node: string, record: ShardAssignmentRecord): Promise<void> {
    const keys = nodeKeys(node);
    const field = shardKey(record.room, record.shard.id);
    const value = JSON.stringify(record);
    const previous = await this.redis.hget(keys.assignments, field);
    if (previous !== null && sameAssignment(previous, value)) return;
    await this.redis.hset(keys.assignments, field, value);
    await this.redis.publish(keys.assignmentsChanged, record.room);
  }

  async unassign(node: string, room: string, shardId: string): Promise<void> {
    const keys = nodeKeys(node);
    if ((await this.redis.hdel(keys.assignments, shardKey(room, shardId))) > 0)
      await this.redis.publish(keys.assignmentsChanged, room);
  }

  /** What a node must host; invalid entries are returned apart, never trusted. */
  async assignments(node: string): Promise<{
    records: ShardAssignmentRecord[];
    invalid: Array<{ field: string; error: DecodeError }>;
  }> {
    const all = await this.redis.hgetall(nodeKeys(node).assignments);
    const records: ShardAssignmentRecord[] = [];
    const invalid: Array<{ field: string; error: DecodeError }> = [];
    for (const [field, text] of Object.entries(all)) {
      try {
        records.push(decodeJson(ShardAssignmentRecord, text, `assignment ${field} of ${node}`));
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        invalid.push({ field, error });
      }
    }
    return { records, invalid };
  }
}

/** Equal but for assignedAt: re-applying the same decision must not wake the pod. */
function sameAssignment(a: string, b: string): boolean {
  const strip = (s: string): string => {
    const record = JSON.parse(s) as Partial<ShardAssignmentRecord>;
    delete record.assignedAt;
    return JSON.stringify(record);
  };
  try {
    return strip(a) === strip(b);
  } catch {
    return false;
  }
}
