// The room's hot state in Redis: every change is one atomic script call (stage/lua.ts).
import type { Redis } from 'ioredis';
import type { HandEntry, Role } from '../../../common/src/api/schemas.js';
import type { Principal } from '../auth/principal.js';
import { HttpProblem, type ProblemKind } from '../http/problem.js';
import { controlRoomKeys, streamsKey } from '../redis/keys.js';
import { LuaScript } from '../redis/script.js';
import type { Bucket } from '../http/rate-limit.js';
import { ROOM_SCRIPT, SNAPSHOT_SCRIPT } from './lua.js';

const roomScript = new LuaScript(ROOM_SCRIPT);
const snapshotScript = new LuaScript(SNAPSHOT_SCRIPT);

export type StageOp =
  | 'create'
  | 'end'
  | 'join'
  | 'leave'
  | 'session-ended'
  | 'set-role'
  | 'raise'
  | 'lower'
  | 'invite'
  | 'accept'
  | 'decline'
  | 'audience'
  | 'mute'
  | 'unmute'
  | 'remove'
  | 'ban';

export interface ChangeResult {
  event: string;
  /** Stream entry id; '' when the request repeated a state already reached. */
  eventId: string;
  role: Role;
}

/** The join script found no seat left among a listener's choices (concurrent joins took them). */
export class NoSeat extends Error {
  override readonly name = 'NoSeat';
}

export interface JoinCheck {
  role: Role;
  routeJson: string | undefined;
  speakerLimit: number;
}

export interface Snapshot {
  meta: Record<string, string>;
  routeJson: string | undefined;
  roles: Record<string, Role>;
  participants: number;
  stagePresent: number;
  handQueue: HandEntry[];
  invited: string[];
  muted: string[];
}

function keyList(room: string): string[] {
  const k = controlRoomKeys(room);
  return [
    k.meta,
    k.route,
    k.roles,
    k.participants,
    k.hands,
    k.handTimes,
    k.invites,
    k.muted,
    k.banned,
    k.log,
    k.seq,
    k.rate,
    k.seats,
  ];
}

export class RoomStore {
  readonly #knownStreams = new Set<string>();
  constructor(
    private readonly redis: Redis,
    /** The room's token bucket, charged by every change (one script call: no extra round trip). */
    private readonly bucket: Bucket | undefined = undefined,
  ) {}

  async #call(
    room: string,
    op: StageOp | 'join-check',
    actor: Principal,
    target = '',
    data = '',
  ): Promise<string[]> {
    const reply = (await roomScript.run(this.redis, keyList(room), [
      op,
      actor.id,
      actor.kind,
      target,
      controlRoomKeys(room).events,
      room,
      data,
      // A join is charged once, at its check.
      ...(this.bucket && op !== 'join' ? [this.bucket.perSecond / 1000, this.bucket.burst] : []),
    ])) as Array<string | number>;
    if (reply[0] === 'err' && reply[1] === 'rate-limited') {
      const seconds = Math.max(1, Math.ceil(Number(reply[2]) / 1000));
      throw new HttpProblem(
        'rate-limited',
        `rate limit of this room exceeded; retry in ${seconds} s`,
        {
          headers: { 'Retry-After': String(seconds) },
        },
      );
    }
    if (reply[0] === 'err' && reply[1] === 'no-seat') throw new NoSeat(String(reply[2]));
    if (reply[0] === 'err') throw new HttpProblem(reply[1] as ProblemKind, String(reply[2]));
    return reply.map(String);
  }

  /** Applies one change; registers the room's stream with the write-behind consumer on first use. */
  async change(
    room: string,
    op: StageOp,
    actor: Principal,
    target = '',
    data = '',
  ): Promise<ChangeResult> {
    const reply = await this.#call(room, op, actor, target, data);
    await this.#track(room, reply);
    return this.#result(reply);
  }

  /** Registers the room's stream with the write-behind consumer on its first event. */
  async #track(room: string, [, , eventId, , length]: string[]): Promise<void> {
    if (eventId !== '' && !this.#knownStreams.has(room) && Number(length) >= 1) {
      await this.redis.sadd(streamsKey, room);
      this.#knownStreams.add(room);
    }
  }

  #result([, event, eventId, role]: string[]): ChangeResult {
    return { event: event!, eventId: eventId!, role: (role || 'listener') as Role };
  }

  /**
   * Records a participant. `record.seats` (a listener's choices) lets the script pick the shard and
   * take the seat atomically; the reply names the shard it recorded. Throws NoSeat when all are full.
   */
  async join(
    room: string,
    actor: Principal,
    record: Record<string, unknown>,
  ): Promise<ChangeResult & { shard: string }> {
    const reply = await this.#call(room, 'join', actor, actor.id, JSON.stringify(record));
    await this.#track(room, reply);
    return { ...this.#result(reply), shard: reply[5]! };
  }

  async joinCheck(room: string, actor: Principal): Promise<JoinCheck> {
    const [, role, routeJson, limit] = await this.#call(room, 'join-check', actor);
    return {
      role: role as Role,
      routeJson: routeJson === '' ? undefined : routeJson,
      speakerLimit: Number(limit),
    };
  }

  async snapshot(room: string): Promise<Snapshot | undefined> {
    const reply = (await snapshotScript.run(this.redis, keyList(room).slice(0, 9), [])) as
      | null
      | [
          string[],
          string,
          string[],
          number,
          number,
          string[],
          Array<string | null>,
          string[],
          string[],
        ];
    if (reply === null) return undefined;
    const [meta, route, stage, participants, present, queue, times, invited, muted] = reply;
    return {
      meta: pairs(meta),
      routeJson: route === '' ? undefined : route,
      roles: pairs(stage) as Record<string, Role>,
      participants,
      stagePresent: present,
      handQueue: queue.map((user, i) => ({
        user,
        position: i + 1,
        raisedAt: Number(times[i] ?? 0),
      })),
      invited,
      muted,
    };
  }

  async handQueue(room: string): Promise<HandEntry[] | undefined> {
    return (await this.snapshot(room))?.handQueue;
  }
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
