// One scheduling pass over every room: the scheduler is global (bin-packing), so it always sees the
// full snapshot; the pass then writes, for every room whose status, finalizer or route differs,
// status first (durable), then the routing table. Writes go through the assume cache so the next
// pass sees them even before the informer does. Passes never overlap (the caller serialises them).
//
// Write modes: 'serial' (a pass waits for all of its writes; finalizer, then status) and
// 'pipelined' (default): a pass hands its writes to a RoomWriteQueue (bounded concurrency, one
// write in flight per room, per-room order kept) and returns; until a room's queued writes are
// done, later passes see the status and finalizer they will write (the pending overlay), so a
// room is never placed twice and no headroom is booked twice. With a writer whose finalizer apply
// carries no resourceVersion, the finalizer and status go out together.
import type { Shard } from '../../../../common/src/crd/audio-room.js';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { RoutingTable } from '../../../../common/src/contract/routing-table.js';
import type { Logger } from '../../../../common/src/logger.js';
import type { Clock } from '../../runtime/clock.js';
import { findCondition } from '../../runtime/conditions.js';
import type { EventRecorder } from '../../runtime/events.js';
import { hasFinalizer, isBeingDeleted } from '../../runtime/finalizers.js';
import { schedule } from '../../scheduler/place.js';
import type { RoomDecision, Unschedulable } from '../../scheduler/types.js';
import { AssumeCache } from './assume-cache.js';
import type { RoomWriter } from './kube-writer.js';
import type { PassMetrics } from './metrics.js';
import { RoomWriteQueue } from './write-queue.js';
import { applyRoutes, removeRoutes, routeFingerprint, routeOf } from './routes.js';
import { buildSnapshot, roomIdOf } from './snapshot.js';
import { desiredStatus, endedStatus, endsAt, sameStatus } from './status.js';
import {
  CONDITION_SCHEDULED,
  ROOM_FINALIZER,
  type AudioRoom,
  type MediaRegionObject,
} from './types.js';

export interface PassDeps {
  rooms: () => AudioRoom[];
  regions: () => MediaRegionObject[];
  heartbeats: () => NodeHeartbeat[];
  writer: RoomWriter;
  routing: RoutingTable;
  events?: EventRecorder;
  clock: Clock;
  log: Logger;
  minEdgeAgeMs: number;
  /** Rooms written at once. Default 32. */
  writeConcurrency?: number;
  /** Default 'pipelined'. */
  writeMode?: WriteMode;
  /** Reconcile the room again after ms (young edges, lifecycle.endAt). */
  wake: (id: string, ms: number) => void;
  /** Retry a room that failed but was not asked for (backoff). */
  retry: (id: string) => void;
  metrics?: PassMetrics;
}

export interface RoomResult {
  error?: unknown;
  unschedulable?: Unschedulable;
}

export interface PassRequest {
  /** Rooms whose reconcile waits for this pass. */
  requested: ReadonlySet<string>;
  /** Re-apply every route and assignment, and delete routes of rooms that no longer exist. */
  forceRoutes: boolean;
}

export type WriteMode = 'serial' | 'pipelined';

/** What a pass decided; `writes` settle as the room's queued writes finish (pipelined mode). */
export interface PassOutcome {
  /** Per room; a write's error is added when it fails. */
  results: Map<string, RoomResult>;
  /** Rooms with a write of this pass (or an earlier one) still queued or in flight. */
  writes: Map<string, Promise<void>>;
}

/** The status and finalizer a room will have once its queued writes are done. */
interface Overlay {
  seq: number;
  status: AudioRoom['status'] | undefined;
  finalizer: boolean;
}

export interface PassStats {
  rooms: number;
  written: number;
  durationMs: number;
}

type Task = () => Promise<void>;

async function pool(tasks: Task[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

export class PassEngine {
  readonly assumed = new AssumeCache();
  /** When each shard was first seen ("room#shard"): young edges are not retired. */
  readonly #createdAt = new Map<string, number>();
  /** Fingerprint of the route last written per room. */
  readonly #routed = new Map<string, string>();
  readonly #d: PassDeps;
  readonly #queue: RoomWriteQueue | undefined;
  readonly #overlay = new Map<string, Overlay>();
  /** Fingerprint of the route queued per room (pipelined mode). */
  readonly #intended = new Map<string, string>();
  #seq = 0;
  lastStats: PassStats = { rooms: 0, written: 0, durationMs: 0 };

  constructor(deps: PassDeps) {
    this.#d = deps;
    if ((deps.writeMode ?? 'pipelined') === 'pipelined')
      this.#queue = new RoomWriteQueue(deps.writeConcurrency ?? 32);
  }

  get writeMode(): WriteMode {
    return this.#queue ? 'pipelined' : 'serial';
  }

  /** Resolves once every queued write is done (pipelined mode). */
  idle(): Promise<void> {
    return this.#queue?.idle() ?? Promise.resolve();
  }

  /** A room as it will be once its queued writes are done. */
  #view(room: AudioRoom): AudioRoom {
    const ov = this.#overlay.get(roomIdOf(room));
    if (ov === undefined) return room;
    const out: AudioRoom = { ...room, metadata: { ...room.metadata } };
    if (ov.status !== undefined) out.status = ov.status;
    if (ov.finalizer && !hasFinalizer(room, ROOM_FINALIZER))
      out.metadata.finalizers = [...(room.metadata.finalizers ?? []), ROOM_FINALIZER];
    return out;
  }

  /** Drops what is remembered about a room that no longer exists. */
  forget(id: string): void {
    this.assumed.forget(id);
    this.#routed.delete(id);
    this.#intended.delete(id);
    this.#overlay.delete(id);
    const prefix = `${id}#`;
    for (const key of this.#createdAt.keys())
      if (key.startsWith(prefix)) this.#createdAt.delete(key);
  }

  /** One pass; resolves once all of its writes are done. */
  async run(request: PassRequest): Promise<Map<string, RoomResult>> {
    const outcome = await this.pass(request);
    await Promise.all(outcome.writes.values());
    return outcome.results;
  }

  /**
   * One pass. Serial mode: resolves after its writes. Pipelined: resolves once they are queued;
   * `writes` tells when each room's are done.
   */
  async pass(request: PassRequest): Promise<PassOutcome> {
    const d = this.#d;
    const queue = this.#queue;
    const writes = new Map<string, Promise<void>>();
    const started = d.clock.now();
    const now = started;
    const results = new Map<string, RoomResult>();
    const all: AudioRoom[] = [];
    for (const informed of d.rooms()) {
      const room = this.assumed.latest(roomIdOf(informed), informed);
      if (room) all.push(this.#view(room));
    }
    const active: AudioRoom[] = [];
    const tasks: Task[] = [];
    let written = 0;
    /** Serial: a task of this pass. Pipelined: queued behind the room's earlier writes. */
    const write = (id: string, fn: Task, overlay?: Omit<Overlay, 'seq'>): void => {
      written++;
      if (queue === undefined) {
        tasks.push(() => this.#guard(id, results, fn));
        return;
      }
      const seq = ++this.#seq;
      if (overlay) this.#overlay.set(id, { seq, ...overlay });
      const done = (): void => {
        if (this.#overlay.get(id)?.seq === seq) this.#overlay.delete(id);
      };
      const queued = queue.enqueue(id, async () => {
        try {
          await fn();
        } finally {
          done();
        }
      });
      writes.set(
        id,
        queued.then(
          () => undefined,
          (err: unknown) => {
            d.log.warn({ err, object: id }, 'applying the pass to a room failed');
            results.set(id, { ...results.get(id), error: err });
            this.#intended.delete(id);
            d.retry(id);
          },
        ),
      );
    };
    for (const room of all) {
      const id = roomIdOf(room);
      const ending = isBeingDeleted(room) || (endsAt(room) ?? Infinity) <= now;
      if (ending && queue?.has(id)) {
        // Its queued writes go first; then it is reconciled again from what they left.
        void queue.settled(id)?.then(() => d.wake(id, 0));
        continue;
      }
      if (isBeingDeleted(room)) write(id, () => this.#delete(room));
      else if (ending) write(id, () => this.#end(room, now));
      else active.push(room);
    }

    for (const room of active) {
      const id = roomIdOf(room);
      for (const s of room.status?.shards ?? []) {
        if (!this.#createdAt.has(`${id}#${s.id}`)) this.#createdAt.set(`${id}#${s.id}`, now);
      }
    }
    const { snapshot, index } = buildSnapshot({
      rooms: active,
      regions: d.regions(),
      heartbeats: d.heartbeats(),
      createdAt: (room, shard) => this.#createdAt.get(`${room}#${shard}`),
      now,
    });
    const decisions = schedule(snapshot, { minEdgeAgeMs: d.minEdgeAgeMs });
    const byRoom = new Map<string, RoomDecision>(decisions.rooms.map((r) => [r.roomId, r]));
    d.metrics?.unschedulable.set(decisions.stats.unschedulable);
    d.metrics?.passRooms.set(all.length);

    for (const room of active) {
      const id = roomIdOf(room);
      const decision = byRoom.get(id);
      const shards = decisions.assignments.get(id) ?? [];
      const status = desiredStatus(room, shards, index, decision?.unschedulable, now);
      const statusChanged = !sameStatus(room.status, status);
      const needsFinalizer = !hasFinalizer(room, ROOM_FINALIZER);
      const fingerprint = routeFingerprint(routeOf(room, status, 0));
      const routed = queue
        ? (this.#intended.get(id) ?? this.#routed.get(id))
        : this.#routed.get(id);
      const routeChanged = request.forceRoutes || routed !== fingerprint;
      if (decision?.unschedulable) results.set(id, { unschedulable: decision.unschedulable });
      this.#wakeFor(room, shards, now);
      if (!statusChanged && !needsFinalizer && !routeChanged) continue;
      if (queue) this.#intended.set(id, fingerprint);
      const together = queue !== undefined && d.writer.concurrentFinalizer === true;
      write(
        id,
        async () => {
          let obj = room;
          const finalizer = async (): Promise<void> => {
            const added = await d.writer.addFinalizer(room);
            d.metrics?.writes.inc({ kind: 'finalizer' });
            this.assumed.assume(added);
            obj = added;
          };
          const statusWrite = async (): Promise<void> => {
            const applied = await d.writer.applyStatus(obj, status);
            d.metrics?.writes.inc({ kind: 'status' });
            this.assumed.assume(applied);
            obj = applied;
            this.#record(room, decision);
          };
          if (needsFinalizer && statusChanged && together) {
            await Promise.all([finalizer(), statusWrite()]);
          } else {
            if (needsFinalizer) await finalizer();
            if (statusChanged) await statusWrite();
          }
          await applyRoutes(d.routing, obj, status, room.status?.shards ?? [], d.clock.now());
          d.metrics?.writes.inc({ kind: 'route' });
          this.#routed.set(id, fingerprint);
        },
        { status, finalizer: true },
      );
    }

    await pool(tasks, d.writeConcurrency ?? 32);
    if (queue) {
      // Reconciles of rooms with earlier writes still queued wait for those.
      for (const id of request.requested) {
        const pending = writes.has(id) ? undefined : queue.settled(id);
        if (pending) writes.set(id, pending);
      }
    }

    if (request.forceRoutes) {
      const known = new Set(all.map(roomIdOf));
      try {
        for (const id of await d.routing.routedRooms()) {
          if (known.has(id)) continue;
          d.log.info({ room: id }, 'removing the route of a room that no longer exists');
          await removeRoutes(d.routing, id, []);
        }
      } catch (err) {
        d.log.warn({ err }, 'stale route clean-up failed');
      }
    }

    for (const [id, r] of results) {
      if (r.error !== undefined && !request.requested.has(id)) d.retry(id);
    }
    const durationMs = d.clock.now() - started;
    d.metrics?.passDuration.observe(durationMs / 1000);
    this.lastStats = { rooms: all.length, written, durationMs };
    return { results, writes };
  }

  async #guard(id: string, results: Map<string, RoomResult>, fn: Task): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#d.log.warn({ err, object: id }, 'applying the pass to a room failed');
      results.set(id, { ...results.get(id), error: err });
    }
  }

  /** Young edges may be retired once old enough; an ending room must end on time. */
  #wakeFor(room: AudioRoom, shards: readonly Shard[], now: number): void {
    const id = roomIdOf(room);
    let at = Infinity;
    for (const s of shards) {
      if (s.role !== 'edge') continue;
      const created = this.#createdAt.get(`${id}#${s.id}`) ?? now;
      const oldAt = created + this.#d.minEdgeAgeMs;
      if (oldAt > now) at = Math.min(at, oldAt);
    }
    const end = endsAt(room);
    if (end !== undefined && end > now) at = Math.min(at, end);
    if (at !== Infinity) this.#d.wake(id, at - now + 20);
  }

  #record(room: AudioRoom, decision: RoomDecision | undefined): void {
    const { events, metrics, log } = this.#d;
    const id = roomIdOf(room);
    for (const a of decision?.actions ?? []) {
      metrics?.shardChanges.inc({ action: a.kind });
      if (a.kind === 'placeOrigin') {
        const p = a.placement;
        const note = `origin ${a.shard.id} on ${p.node} worker ${p.worker} (${p.region}/${p.zone})${a.cause === 'originLost' ? ', replacing a lost origin' : ''}`;
        log.info({ object: id, shard: a.shard.id, node: p.node, worker: p.worker }, note);
        void events?.normal(room, 'Scheduled', 'PlaceOrigin', note);
      } else if (a.kind === 'addEdge') {
        const p = a.placement;
        const note = `edge ${a.shard.id} on ${p.node} worker ${p.worker} (${a.tier}), fed from ${a.from}`;
        log.info({ object: id, shard: a.shard.id, node: p.node, worker: p.worker }, note);
        void events?.normal(room, 'ShardAdded', 'AddEdge', note);
      } else {
        const note = `${a.role} ${a.shardId} on ${a.node} worker ${a.worker} retired (${a.reason})`;
        log.info({ object: id, shard: a.shardId, node: a.node, reason: a.reason }, note);
        void events?.normal(room, 'ShardRetired', 'RetireShard', note);
      }
    }
    const u = decision?.unschedulable;
    if (u) {
      const before = findCondition(room.status?.conditions, CONDITION_SCHEDULED);
      if (before?.status !== 'False' || before.reason !== u.reason) {
        log.warn({ object: id, reason: u.reason }, u.message);
        void events?.warning(room, 'Unschedulable', 'Schedule', `${u.reason}: ${u.message}`);
      }
    }
  }

  async #delete(room: AudioRoom): Promise<void> {
    const id = roomIdOf(room);
    if (!hasFinalizer(room, ROOM_FINALIZER)) {
      if (this.#routed.has(id)) await removeRoutes(this.#d.routing, id, room.status?.shards ?? []);
      return;
    }
    await removeRoutes(this.#d.routing, id, room.status?.shards ?? []);
    this.#routed.delete(id);
    const obj = await this.#d.writer.removeFinalizer(room);
    this.#d.metrics?.writes.inc({ kind: 'finalizer' });
    this.#d.log.info({ object: id }, 'shards unassigned, route deleted, finalizer released');
    this.assumed.assume(obj);
  }

  async #end(room: AudioRoom, now: number): Promise<void> {
    const id = roomIdOf(room);
    const status = endedStatus(room, now);
    if (sameStatus(room.status, status) && !this.#routed.has(id)) return;
    const previous = room.status?.shards ?? [];
    if (!sameStatus(room.status, status)) {
      this.assumed.assume(await this.#d.writer.applyStatus(room, status));
      this.#d.metrics?.writes.inc({ kind: 'status' });
      void this.#d.events?.normal(
        room,
        'Ended',
        'End',
        `lifecycle.endAt ${room.spec.lifecycle?.endAt}`,
      );
    }
    await removeRoutes(this.#d.routing, id, previous);
    this.#routed.delete(id);
  }
}
