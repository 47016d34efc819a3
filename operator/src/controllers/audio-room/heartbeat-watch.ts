// Watches the node registry: polls NodeRegistry.live() every few hundred milliseconds and reports
// the rooms whose shards' listeners or states changed, and whether the set of nodes (or their
// draining flags, workers, restarts) changed. A node that vanishes is kept for a grace period so
// a Redis flush (every pod re-registers within one beat) does not look like every pod dying.
import type { Logger } from '../../../../common/src/logger.js';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { NodeRegistry } from '../../../../common/src/contract/node-registry.js';
import { realClock, type Clock, type Timer } from '../../runtime/clock.js';

export interface HeartbeatChanges {
  /** Rooms whose hosted shards report different listeners/states/speakers. */
  rooms: Set<string>;
  /** A node appeared, vanished (after the grace), or changed draining/workers/process. */
  nodes: boolean;
  /** Nodes seen for the first time or restarted: their assignments should be re-applied. */
  appeared: string[];
}

export interface HeartbeatWatchOptions {
  registry: NodeRegistry;
  onChange: (changes: HeartbeatChanges) => void;
  intervalMs?: number;
  /** How long a vanished node stays in the snapshot. Default 1.5 s. */
  graceMs?: number;
  clock?: Clock;
  log: Logger;
}

function roomPrints(nodes: Iterable<NodeHeartbeat>): Map<string, string> {
  const parts = new Map<string, string[]>();
  for (const hb of nodes) {
    for (const s of hb.shards) {
      let list = parts.get(s.room);
      if (list === undefined) parts.set(s.room, (list = []));
      list.push(`${hb.node}/${s.shard}:${s.listeners}:${s.state}:${s.speakers}:${hb.draining}`);
    }
  }
  return new Map([...parts].map(([room, list]) => [room, list.sort().join(',')]));
}

function nodePrint(hb: NodeHeartbeat): string {
  return [
    hb.region,
    hb.zone,
    hb.draining,
    hb.startedAt,
    hb.workers.map((w) => `${w.index}${w.alive ? '+' : '-'}`).join(''),
  ].join('|');
}

export class HeartbeatWatch {
  readonly #o: HeartbeatWatchOptions;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #graceMs: number;
  /** Last heartbeat of every node seen, and when it was last live. */
  readonly #seen = new Map<string, { hb: NodeHeartbeat; at: number }>();
  #rooms = new Map<string, string>();
  #nodes = new Map<string, string>();
  #timer: Timer | undefined;
  #stopped = false;
  #polled = false;
  #firstPollAt = 0;
  #lastError = '';

  constructor(options: HeartbeatWatchOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#intervalMs = options.intervalMs ?? 300;
    this.#graceMs = options.graceMs ?? 1500;
  }

  /** Polls once now, then every interval. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.poll();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  get polled(): boolean {
    return this.#polled;
  }

  /** When the first successful poll happened (ms, the watch's clock). */
  get firstPollAt(): number {
    return this.#firstPollAt;
  }

  /** Live heartbeats plus those that vanished less than the grace period ago. */
  heartbeats(): NodeHeartbeat[] {
    const now = this.#clock.now();
    const out: NodeHeartbeat[] = [];
    for (const { hb, at } of this.#seen.values()) if (now - at <= this.#graceMs) out.push(hb);
    return out;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.after(this.#intervalMs, () => {
      void this.poll().finally(() => this.#schedule());
    });
  }

  /** One poll: refresh the heartbeats and report what changed. */
  async poll(): Promise<void> {
    const now = this.#clock.now();
    let live: NodeHeartbeat[];
    try {
      const result = await this.#o.registry.live(Date.now());
      live = result.nodes;
      for (const bad of result.invalid) {
        this.#o.log.warn({ node: bad.node, err: bad.error.message }, 'invalid heartbeat ignored');
      }
      this.#lastError = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.#lastError) this.#o.log.warn({ err }, 'node registry poll failed');
      this.#lastError = message;
      return;
    }
    if (!this.#polled) this.#firstPollAt = now;
    this.#polled = true;
    for (const hb of live) this.#seen.set(hb.node, { hb, at: now });
    const current = this.heartbeats();
    for (const [id, { at }] of this.#seen) if (now - at > this.#graceMs) this.#seen.delete(id);

    const rooms = roomPrints(current);
    const changedRooms = new Set<string>();
    for (const [room, print] of rooms) if (this.#rooms.get(room) !== print) changedRooms.add(room);
    for (const room of this.#rooms.keys()) if (!rooms.has(room)) changedRooms.add(room);
    this.#rooms = rooms;

    const nodes = new Map(current.map((hb) => [hb.node, nodePrint(hb)]));
    let nodesChanged = nodes.size !== this.#nodes.size;
    const appeared: string[] = [];
    for (const [id, print] of nodes) {
      const before = this.#nodes.get(id);
      if (before !== print) nodesChanged = true;
      if (before === undefined || before.split('|')[3] !== print.split('|')[3]) appeared.push(id);
    }
    this.#nodes = nodes;
    if (changedRooms.size > 0 || nodesChanged) {
      this.#o.onChange({ rooms: changedRooms, nodes: nodesChanged, appeared });
    }
  }
}
