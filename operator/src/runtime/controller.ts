// A controller in controller-runtime's shape: sources feed keys into a rate-limited work queue,
// N workers call reconcile(key), and the result decides forget / backoff / requeue-after.
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { realClock, type Clock } from './clock.js';
import type { EventHandler } from './handlers.js';
import { splitKey, type KubeObject } from './keys.js';
import {
  RuntimeMetrics,
  noopControllerMetrics,
  type ControllerMetrics,
  type ReconcileResultLabel,
} from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

export interface Result {
  /** Retry with the rate limiter's backoff (prefer requeueAfterMs or an error). */
  requeue?: boolean;
  /** Reconcile again after this long, with the backoff reset. */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  key: string;
  namespace?: string;
  name: string;
  /** Aborted when the controller stops and its grace period has run out. */
  signal: AbortSignal;
  /** Carries controller, object and reconcileID. */
  log: Logger;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<Result | void>;

/** An error retrying cannot fix: logged and counted, but the key is not requeued. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Something whose cache must be filled before workers start (an Informer). */
export interface Syncable {
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export interface Watchable<T extends KubeObject> extends Syncable {
  addEventHandler(handler: EventHandler<T>): void;
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** Workers; one key is never reconciled by two at once. Default 1. */
  maxConcurrentReconciles?: number;
  rateLimiter?: RateLimiter;
  /** Registry for controller_runtime_* and workqueue_* metrics; none → no metrics. */
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  /** How long start() waits for the watched caches. Default 2 min, as controller-runtime. */
  cacheSyncTimeoutMs?: number;
}

export interface StopOptions {
  /** In-flight reconciles get this long before their signal aborts. Default 30 s. */
  abortAfterMs?: number;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #reconcile: Reconciler;
  readonly #workers: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #cacheSyncTimeoutMs: number;
  readonly #sources: Syncable[] = [];
  // Aborted by stop(): cancels the cache-sync wait.
  readonly #stopping = new AbortController();
  // Aborted once stop()'s grace period is over: tells reconcilers to give up.
  readonly #abortReconciles = new AbortController();
  #running: Promise<void>[] = [];
  #started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#reconcile = options.reconcile;
    this.#workers = Math.max(1, options.maxConcurrentReconciles ?? 1);
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? createLogger('operator')).child({ controller: this.name });
    this.#cacheSyncTimeoutMs = options.cacheSyncTimeoutMs ?? 120_000;
    const metrics = options.registry ? RuntimeMetrics.for(options.registry) : undefined;
    this.#metrics = metrics?.controller(this.name, this.#workers) ?? noopControllerMetrics;
    this.queue = new WorkQueue({
      name: this.name,
      clock: this.#clock,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(metrics ? { metrics: metrics.workQueue(this.name) } : {}),
    });
  }

  /** Feeds source's notifications through handler (e.g. enqueueForOwner) into this queue. */
  watch<T extends KubeObject>(source: Watchable<T>, handler: EventHandler<T>): this {
    source.addEventHandler(handler);
    this.#sources.push(source);
    return this;
  }

  /** Enqueues a key ("namespace/name") by hand. */
  add(key: string): void {
    this.queue.add(key);
  }

  get started(): boolean {
    return this.#started;
  }

  /** Waits for the watched caches, then starts the workers (returns once they run). */
  async start(): Promise<void> {
    if (this.#started || this.#stopping.signal.aborted) return;
    this.#log.info('Starting Controller');
    await this.#waitForCaches();
    if (this.#stopping.signal.aborted) return;
    this.#started = true;
    this.#log.info({ workerCount: this.#workers }, 'Starting workers');
    for (let i = 0; i < this.#workers; i++) this.#running.push(this.#worker());
  }

  /** Stops handing out keys and waits for in-flight reconciles to finish. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (!this.#stopping.signal.aborted) {
      this.#log.info('Shutdown signal received, waiting for all workers to finish');
    }
    this.#stopping.abort();
    this.queue.shutDown();
    const grace = this.#clock.after(options.abortAfterMs ?? 30_000, () =>
      this.#abortReconciles.abort(),
    );
    try {
      await Promise.all(this.#running);
    } finally {
      grace.cancel();
    }
    this.#running = [];
    this.#log.info('All workers finished');
  }

  async #waitForCaches(): Promise<void> {
    if (this.#sources.length === 0) return;
    const timeout = new AbortController();
    const timer = this.#clock.after(this.#cacheSyncTimeoutMs, () => timeout.abort());
    const signal = AbortSignal.any([timeout.signal, this.#stopping.signal]);
    try {
      const synced = await Promise.all(this.#sources.map((s) => s.waitForSync(signal)));
      if (this.#stopping.signal.aborted) return;
      if (!synced.every(Boolean)) {
        throw new Error(`controller ${this.name}: timed out waiting for caches to sync`);
      }
    } finally {
      timer.cancel();
    }
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileOne(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #reconcileOne(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const log = this.#log.child({ object: key, namespace, name, reconcileID: randomUUID() });
    const started = this.#clock.now();
    const finish = (label: ReconcileResultLabel): void =>
      this.#metrics.reconciled(label, (this.#clock.now() - started) / 1000);
    let result: Result;
    this.#metrics.activeWorkers(1);
    try {
      const ctx: ReconcileContext = { key, name, signal: this.#abortReconciles.signal, log };
      if (namespace !== undefined) ctx.namespace = namespace;
      result = (await this.#reconcile(key, ctx)) ?? {};
    } catch (err) {
      finish('error');
      if (err instanceof TerminalError) {
        log.error({ err }, 'Reconciler error (terminal, not requeued)');
        this.queue.forget(key);
      } else {
        log.error({ err }, 'Reconciler error');
        this.queue.addRateLimited(key);
      }
      return;
    } finally {
      this.#metrics.activeWorkers(-1);
    }
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
      finish('requeue_after');
    } else if (result.requeue) {
      this.queue.addRateLimited(key);
      finish('requeue');
    } else {
      this.queue.forget(key);
      finish('success');
    }
  }
}
