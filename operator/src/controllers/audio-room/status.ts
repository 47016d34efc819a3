// Pure: the AudioRoom.status a pass wants, from the shards the scheduler decided and what the
// heartbeats say; and a comparison that ignores key order, so unchanged rooms are not written.
import type { AudioRoomStatus, RoomPhase, Shard } from '../../../../common/src/crd/audio-room.js';
import { setCondition, type Condition } from '../../runtime/conditions.js';
import type { Unschedulable } from '../../scheduler/types.js';
import { observedSpeakers, roomIdOf, type HeartbeatIndex } from './snapshot.js';
import { CONDITION_READY, CONDITION_SCHEDULED, type AudioRoom } from './types.js';

export function phaseOf(room: string, shards: readonly Shard[], index: HeartbeatIndex): RoomPhase {
  const origin = shards.find((s) => s.role === 'origin');
  if (origin === undefined) return 'Pending';
  const hosted = index.hosted(origin.node, room, origin.id);
  if (hosted?.state === 'Ready' && index.nodes.get(origin.node)?.draining) return 'Draining';
  return hosted?.state === 'Ready' ? 'Live' : 'Scheduled';
}

/** Status shards: what the scheduler returned, as the CRD's Shard (no extra fields). */
export function statusShards(shards: readonly Shard[]): Shard[] {
  return shards.map(({ id, role, region, node, worker, listeners, state }) => ({
    id,
    role,
    region,
    node,
    worker,
    listeners,
    state,
  }));
}

export function desiredStatus(
  room: AudioRoom,
  shards: readonly Shard[],
  index: HeartbeatIndex,
  unschedulable: Unschedulable | undefined,
  now: number,
): AudioRoomStatus {
  const id = roomIdOf(room);
  const generation = room.metadata.generation;
  const phase = phaseOf(id, shards, index);
  const origin = shards.find((s) => s.role === 'origin');
  const conditions = structuredClone((room.status?.conditions ?? []) as Condition[]);
  if (unschedulable) {
    setCondition(
      conditions,
      {
        type: CONDITION_SCHEDULED,
        status: 'False',
        reason: unschedulable.reason,
        message: unschedulable.message,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      now,
    );
  } else if (origin) {
    setCondition(
      conditions,
      {
        type: CONDITION_SCHEDULED,
        status: 'True',
        reason: 'Placed',
        message: `${shards.length} shard(s); origin ${origin.id} on ${origin.node} worker ${origin.worker}`,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      now,
    );
  }
  setCondition(
    conditions,
    {
      type: CONDITION_READY,
      status: phase === 'Live' ? 'True' : 'False',
      reason: phase === 'Live' ? 'OriginReady' : origin ? 'OriginPending' : 'NotScheduled',
      message:
        phase === 'Live'
          ? `origin ${origin!.id} is ready on ${origin!.node}`
          : origin
            ? `waiting for ${origin.node} to report origin ${origin.id} ready`
            : 'the room has no origin yet',
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    },
    now,
  );
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase,
    region: origin?.region ?? shards[0]?.region ?? room.status?.region ?? '',
    shards: statusShards(shards),
    shardCount: shards.length,
    listeners: shards.reduce((n, s) => n + s.listeners, 0),
    speakers: observedSpeakers(id, shards, index),
    conditions,
  };
}

/** The status of a room past lifecycle.endAt: no shards, both conditions False. */
export function endedStatus(room: AudioRoom, now: number): AudioRoomStatus {
  const generation = room.metadata.generation;
  const conditions = structuredClone((room.status?.conditions ?? []) as Condition[]);
  for (const type of [CONDITION_SCHEDULED, CONDITION_READY]) {
    setCondition(
      conditions,
      {
        type,
        status: 'False',
        reason: 'Ended',
        message: `the room ended at ${room.spec.lifecycle?.endAt ?? '?'}`,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      now,
    );
  }
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: 'Ended',
    region: room.status?.region ?? '',
    shards: [],
    shardCount: 0,
    listeners: 0,
    speakers: 0,
    conditions,
  };
}

/** JSON with object keys sorted: equal values give equal text whatever the key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

export function sameStatus(a: AudioRoomStatus | undefined, b: AudioRoomStatus): boolean {
  return a !== undefined && canonical(a) === canonical(b);
}

/** Milliseconds since the epoch of lifecycle.endAt, if set and valid. */
export function endsAt(room: AudioRoom): number | undefined {
  const t = room.spec.lifecycle?.endAt;
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}
