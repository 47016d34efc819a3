// The presence consumer: reads the media pods' SessionEnded stream through a consumer group (every
// control API replica shares the work) and, once an entry is `graceMs` old, removes that
// participant unless a newer join replaced the session (RoomStore 'session-ended'). The grace lets
// a client that lost its connection reconnect (a new join) without leaving the room or the stage.
// An entry is acknowledged only after its change; entries of a crashed replica are claimed once
// idle, and a replica replays its own pending entries first, so no report is lost.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DecodeError } from '../../../common/src/contract/codec.js';
import { presenceKeys } from '../../../common/src/contract/keys.js';
import { decodeSessionEnded } from '../../../common/src/contract/presence.js';
import { HttpProblem } from '../http/problem.js';
import type { RoomStore } from '../stage/store.js';

export const PRESENCE_GROUP = 'control-api';

export interface PresenceConsumerOptions {
  consumer: string;
  /** How long after a session ended its participant is removed. */
  graceMs: number;
  /** Entries pending this long at another replica are taken over. Default 30 s. */
  claimIdleMs?: number;
  batch?: number;
  /** How long a read blocks when nothing is new. Default 1 s. */
  blockMs?: number;
}

type Entries = Array<[string, string[] | null]>;

export class PresenceConsumer {
  #running = false;
  #loop: Promise<void> | undefined;
  #lastClaim = 0;
  #wake: (() => void) | undefined;
  /** Participants removed; reports that changed nothing; malformed entries dropped. */
  removed = 0;
  unchanged = 0;
  malformed = 0;

  constructor(
    /** A dedicated connection: reads block. */
    private readonly redis: Redis,
    private readonly store: RoomStore,
    private readonly logger: Logger,
    private readonly options: PresenceConsumerOptions,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the entry in hand; what was read and not applied stays pending for a replay. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', presenceKeys.ended, PRESENCE_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
    let backoff = 100;
    while (this.#running) {
      try {
        await this.pass();
        backoff = 100;
      } catch (error) {
        this.logger.warn(
          { err: error, backoffMs: backoff },
          'presence pass failed; entries stay pending',
        );
        await this.#sleep(backoff);
        backoff = Math.min(5_000, backoff * 2);
      }
    }
  }

  /** Claims idle entries of dead replicas, replays this replica's pending ones, then reads new. */
  async pass(): Promise<void> {
    const claimIdle = this.options.claimIdleMs ?? 30_000;
    if (Date.now() - this.#lastClaim >= Math.min(claimIdle, 5_000)) {
      await this.redis.xautoclaim(
        presenceKeys.ended,
        PRESENCE_GROUP,
        this.options.consumer,
        claimIdle,
        '0-0',
        'COUNT',
        this.options.batch ?? 100,
        'JUSTID',
      );
      this.#lastClaim = Date.now();
    }
    await this.#process(await this.#read('0'));
    await this.#process(await this.#read('>'));
  }

  async #read(from: '0' | '>'): Promise<Entries> {
    const { consumer } = this.options;
    const count = this.options.batch ?? 100;
    const key = presenceKeys.ended;
    const reply = (
      from === '>'
        ? await this.redis.xreadgroup(
            'GROUP',
            PRESENCE_GROUP,
            consumer,
            'COUNT',
            count,
            'BLOCK',
            this.options.blockMs ?? 1_000,
            'STREAMS',
            key,
            from,
          )
        : await this.redis.xreadgroup(
            'GROUP',
            PRESENCE_GROUP,
            consumer,
            'COUNT',
            count,
            'STREAMS',
            key,
            from,
          )
    ) as Array<[string, Entries]> | null;
    return reply?.[0]?.[1] ?? [];
  }

  async #process(entries: Entries): Promise<void> {
    for (const [id, flat] of entries) {
      if (!this.#running) return;
      if (flat !== null) {
        // Entries are in time order: waiting for this one's grace delays no later one.
        const due = Number(id.split('-')[0]) + this.options.graceMs;
        if (due > Date.now()) await this.#sleep(due - Date.now());
        if (!this.#running) return;
        await this.#apply(id, flat);
      }
      await this.redis.xack(presenceKeys.ended, PRESENCE_GROUP, id);
    }
  }

  async #apply(id: string, flat: string[]): Promise<void> {
    let ended;
    try {
      ended = decodeSessionEnded(flat);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.malformed++;
      this.logger.warn({ err: error, entry: id }, 'malformed presence entry dropped');
      return;
    }
    try {
      const result = await this.store.change(
        ended.room,
        'session-ended',
        { kind: 'platform', id: `media-pod:${ended.node}` },
        ended.user,
        JSON.stringify({ join: ended.join, reason: ended.reason, node: ended.node }),
      );
      if (result.eventId === '') this.unchanged++;
      else {
        this.removed++;
        this.logger.info(
          { room: ended.room, user: ended.user, reason: ended.reason, node: ended.node },
          'participant gone: its media session ended and no newer join replaced it',
        );
      }
    } catch (error) {
      // The room ended or never existed: nothing to remove.
      if (error instanceof HttpProblem && error.kind === 'room-not-found') this.unchanged++;
      else throw error;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
