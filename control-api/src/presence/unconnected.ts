// The never-connected sweep: a participant got a join token but no media pod ever recorded their
// session (the app was closed before connecting, the network never let it through), so no pod will
// ever report its end. Once such a join is older than its token's life plus a margin (it can no
// longer connect), it is reported ended like any other session; the presence consumer then removes
// the participant after its grace, unless a newer join replaced that one. One replica sweeps at a
// time (a lease in Redis); each room's participants are read in HSCAN pages, their sessions checked
// in one pipeline per page.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { presenceKeys } from '../../../common/src/contract/keys.js';
import { PeriodicTask } from '../../../common/src/periodic.js';
import { reportSessionEnded } from '../../../common/src/contract/presence.js';
import { controlRoomKeys, streamsKey } from '../redis/keys.js';

export interface UnconnectedSweepOptions {
  /** A join this old with no recorded session can no longer connect. */
  maxConnectMs: number;
  /** How often a sweep may run (across all replicas). Default 30 s. */
  intervalMs?: number;
  /** This replica's name (holds the lease). */
  owner: string;
}

interface ParticipantRecord {
  join?: string;
  node?: string;
  joinedAt?: string;
}

export class UnconnectedJoinSweeper {
  readonly #task: PeriodicTask;
  /** Joins reported ended because they never connected. */
  reported = 0;
  readonly #interval: number;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly options: UnconnectedSweepOptions,
  ) {
    this.#interval = options.intervalMs ?? 30_000;
    this.#task = new PeriodicTask(
      'never-connected sweep',
      this.#interval,
      () => this.tick(),
      logger,
    );
  }

  start(): void {
    this.#task.start();
  }

  stop(): Promise<void> {
    return this.#task.stop();
  }

  /** A sweep if this replica gets the lease for the next interval; undefined when another has it. */
  async tick(now = Date.now()): Promise<number | undefined> {
    const leased = await this.redis.set(
      presenceKeys.unconnectedSweepLease,
      this.options.owner,
      'PX',
      this.#interval,
      'NX',
    );
    return leased === 'OK' ? this.pass(now) : undefined;
  }

  /** One sweep over every room; returns how many joins it reported ended. */
  async pass(now = Date.now()): Promise<number> {
    let reported = 0;
    for (const room of await this.redis.smembers(streamsKey)) {
      const key = controlRoomKeys(room).participants;
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', 500);
        cursor = next;
        const stale: Array<{ user: string; join: string; node: string }> = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const record = parse(flat[i + 1]!);
          const joinedAt = Number(record?.joinedAt);
          // Joins from before joinedAt was recorded are left alone: their age is unknown.
          if (!record?.join || !record.node || !Number.isFinite(joinedAt)) continue;
          if (now - joinedAt < this.options.maxConnectMs) continue;
          stale.push({ user: flat[i]!, join: record.join, node: record.node });
        }
        if (stale.length === 0) continue;
        const pipeline = this.redis.pipeline();
        for (const s of stale) pipeline.hexists(presenceKeys.sessions(s.node), s.join);
        const held = (await pipeline.exec()) ?? [];
        for (const [i, s] of stale.entries()) {
          if (held[i]?.[1] === 1) continue;
          await reportSessionEnded(this.redis, { room, ...s, reason: 'never connected' });
          reported++;
        }
      } while (cursor !== '0');
    }
    this.reported += reported;
    if (reported > 0)
      this.logger.info({ joins: reported }, 'joins that never connected reported ended');
    return reported;
  }
}

function parse(json: string): ParticipantRecord | undefined {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? (value as ParticipantRecord) : undefined;
  } catch {
    return undefined;
  }
}
