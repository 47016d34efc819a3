// A rate-limited work queue with client-go/controller-runtime semantics:
// - dedup: a key added while already waiting is queued once;
// - per-key exclusion: a key handed to a worker is not handed out again until done(key); if it is
//   added meanwhile it is marked dirty and re-queued by done();
// - addAfter (earliest deadline wins), addRateLimited/forget via a RateLimiter;
// - after shutDown() nothing more is handed out (unlike client-go, which drains the backlog):
//   stopping should not start new reconciles.
import { realClock, type Clock, type Timer } from './clock.js';
import { noopWorkQueueMetrics, type WorkQueueMetrics } from './metrics.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

export interface WorkQueueOptions {
  /** Label for the workqueue_* metrics (controller-runtime uses the controller name). */
  name?: string;
  rateLimiter?: RateLimiter;
  clock?: Clock;
  metrics?: WorkQueueMetrics;
}

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #rateLimiter: RateLimiter;
  readonly #metrics: WorkQueueMetrics;
  // FIFO of keys ready for a worker; every key in it is also in #dirty.
  #queue: string[] = [];
  // Keys that need processing (queued, or re-added while processing).
  readonly #dirty = new Set<string>();
  // Keys a worker holds, with the time it took them.
  readonly #processing = new Map<string, number>();
  // When each dirty key was added (for queue_duration).
  readonly #addedAt = new Map<string, number>();
  // Delayed adds: one timer per key, the earliest deadline kept.
  readonly #waiting = new Map<string, { readyAt: number; timer: Timer }>();
  // get() calls waiting for a key, served in order.
  #getters: Array<(key: string | undefined) => void> = [];
  #shuttingDown = false;
  #drained: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? '';
    this.#clock = options.clock ?? realClock;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.#clock);
    this.#metrics = options.metrics ?? noopWorkQueueMetrics;
    this.#metrics.trackInFlight(() => this.#inFlight());
  }

  /** Marks key as needing processing. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.added();
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    this.#metrics.setDepth(this.#dirty.size);
    if (this.#processing.has(key)) return; // done() re-queues it
    this.#queue.push(key);
    this.#dispatch();
  }

  /** Adds key after ms; a pending delayed add with an earlier deadline wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    this.#metrics.retried();
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + ms;
    const existing = this.#waiting.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    existing?.timer.cancel();
    const timer = this.#clock.after(ms, () => {
      this.#waiting.delete(key);
      this.add(key);
    });
    this.#waiting.set(key, { readyAt, timer });
  }

  /** Adds key after the rate limiter's delay (per-item backoff combined with the global bucket). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets key's backoff (call after it was processed successfully). */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * Resolves with the next key, marking it as being processed (call done(key) afterwards), or with
   * undefined once the queue is shut down.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#getters.push(resolve);
      this.#dispatch();
    });
  }

  /** Ends processing of key; re-queues it if it was added meanwhile. */
  done(key: string): void {
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics.worked((this.#clock.now() - startedAt) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#queue.push(key);
      this.#dispatch();
    }
    if (this.#processing.size === 0) this.#notifyDrained();
  }

  /** Keys waiting for a worker (including ones re-added while being processed). */
  len(): number {
    return this.#dirty.size;
  }

  /** Keys currently held by workers. */
  processing(): number {
    return this.#processing.size;
  }

  /** Keys with a pending delayed add. */
  waiting(): number {
    return this.#waiting.size;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops accepting adds and handing out keys; pending get() calls resolve with undefined. */
  shutDown(): void {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      for (const { timer } of this.#waiting.values()) timer.cancel();
      this.#waiting.clear();
      const getters = this.#getters;
      this.#getters = [];
      for (const resolve of getters) resolve(undefined);
      this.#metrics.untrack();
    }
    if (this.#processing.size === 0) this.#notifyDrained();
  }

  /** shutDown(), then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.#drained.push(resolve));
    this.shutDown();
    return drained;
  }

  #dispatch(): void {
    while (this.#getters.length > 0 && this.#queue.length > 0) {
      const key = this.#queue.shift()!;
      const resolve = this.#getters.shift()!;
      const now = this.#clock.now();
      this.#processing.set(key, now);
      this.#dirty.delete(key);
      this.#metrics.queued((now - (this.#addedAt.get(key) ?? now)) / 1000);
      this.#addedAt.delete(key);
      this.#metrics.setDepth(this.#dirty.size);
      resolve(key);
    }
  }

  #notifyDrained(): void {
    if (!this.#shuttingDown) return;
    const drained = this.#drained;
    this.#drained = [];
    for (const resolve of drained) resolve();
  }

  #inFlight(): { unfinishedSeconds: number; longestSeconds: number } {
    const now = this.#clock.now();
    let unfinished = 0;
    let longest = 0;
    for (const startedAt of this.#processing.values()) {
      const s = (now - startedAt) / 1000;
      unfinished += s;
      longest = Math.max(longest, s);
    }
    return { unfinishedSeconds: unfinished, longestSeconds: longest };
  }
}
