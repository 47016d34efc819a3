// The write-behind consumer: reads every room's event stream through a consumer group, writes each
// entry to Cassandra, and acknowledges (then deletes) it only after the write. Entries of a crashed
// consumer are claimed with XAUTOCLAIM once idle; its own pending list is replayed first on every
// pass, so a failed write is retried and nothing is lost. Writes are idempotent (the primary key holds
// the entry id), so a replay after a crash between write and ack leaves exactly one row.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { controlRoomKeys, streamsKey } from '../redis/keys.js';
import type { EventSink, StreamEvent } from './event-store.js';

export const GROUP = 'cassandra-writer';

export interface WriteBehindOptions {
  consumer: string;
  /** Entries pending this long at another consumer are taken over. Default 15 s. */
  claimIdleMs?: number;
  batch?: number;
  /** How long a read blocks when there is nothing new. Default 500 ms. */
  blockMs?: number;
  maxBackoffMs?: number;
}

type Entries = Array<[string, string[]]>;

export class WriteBehind {
  readonly #groups = new Set<string>();
  #running = false;
  #loop: Promise<void> | undefined;
  #lastClaim = 0;
  written = 0;
  failures = 0;

  constructor(
    /** A dedicated connection: reads block. */
    private readonly redis: Redis,
    private readonly sink: EventSink,
    private readonly logger: Logger,
    private readonly options: WriteBehindOptions,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the current pass (in-flight entries stay pending and are replayed later). */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #rooms(): Promise<string[]> {
    const rooms = await this.redis.smembers(streamsKey);
    for (const room of rooms) {
      if (this.#groups.has(room)) continue;
      try {
        await this.redis.xgroup('CREATE', controlRoomKeys(room).log, GROUP, '0', 'MKSTREAM');
      } catch (error) {
        if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
      }
      this.#groups.add(room);
    }
    return rooms;
  }

  async #run(): Promise<void> {
    let backoff = 100;
    const max = this.options.maxBackoffMs ?? 2_000;
    while (this.#running) {
      try {
        const progressed = await this.pass();
        backoff = 100;
        if (!progressed) await this.#waitForNew();
      } catch (error) {
        this.failures++;
        this.logger.warn(
          { err: error, backoffMs: backoff },
          'write-behind pass failed; entries stay pending',
        );
        await sleep(backoff);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  /** One pass: claim idle entries of dead consumers, replay our pending list, then read new ones. */
  async pass(): Promise<boolean> {
    const rooms = await this.#rooms();
    if (rooms.length === 0) return false;
    const claimIdle = this.options.claimIdleMs ?? 15_000;
    if (Date.now() - this.#lastClaim >= Math.min(claimIdle, 5_000)) {
      for (const room of rooms)
        await this.redis.xautoclaim(
          controlRoomKeys(room).log,
          GROUP,
          this.options.consumer,
          claimIdle,
          '0-0',
          'COUNT',
          this.options.batch ?? 100,
          'JUSTID',
        );
      this.#lastClaim = Date.now();
    }
    let progressed = false;
    for (const room of rooms) {
      // Our own pending entries first (after a crash, a failed write or a claim).
      progressed = (await this.#process(room, '0')) || progressed;
    }
    for (const room of rooms) progressed = (await this.#process(room, '>')) || progressed;
    return progressed;
  }

  async #process(room: string, from: '0' | '>'): Promise<boolean> {
    const key = controlRoomKeys(room).log;
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      GROUP,
      this.options.consumer,
      'COUNT',
      this.options.batch ?? 100,
      'STREAMS',
      key,
      from,
    )) as Array<[string, Entries]> | null;
    const entries = reply?.[0]?.[1] ?? [];
    let done = 0;
    for (const [id, flat] of entries) {
      if (!this.#running) break;
      if (flat === null || flat === undefined) {
        // Deleted from the stream while pending: nothing to write.
        await this.redis.xack(key, GROUP, id);
        continue;
      }
      const event: StreamEvent = { room, id, fields: toFields(flat) };
      await this.sink.write(event);
      await this.redis.multi().xack(key, GROUP, id).xdel(key, id).exec();
      this.written++;
      done++;
    }
    return done > 0;
  }

  async #waitForNew(): Promise<void> {
    // A short sleep rather than a blocking multi-stream read: new rooms join the set at any time.
    await sleep(this.options.blockMs ?? 200);
  }
}

function toFields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
