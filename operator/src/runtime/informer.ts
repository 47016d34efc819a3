// A resilient informer: list, then watch from the list's resourceVersion, keeping an in-memory
// cache and calling handlers. Unlike client-node's ListWatch it never gives up: errors restart
// the watch with exponential backoff, 410 Gone relists, a watchdog restarts watches that go quiet
// (no event or bookmark for a while), and a periodic resync replays every cached object.
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { realClock, type Clock, type Timer } from './clock.js';
import type { EventHandler } from './handlers.js';
import { objectKey, type KubeObject } from './keys.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchHandle {
  abort(): void;
}

/** Where objects come from; kubeListWatch() adapts client-node, tests pass fakes. */
export interface ListWatchSource<T> {
  list(): Promise<ListResult<T>>;
  /**
   * Watches from resourceVersion. onDone is called once when the watch ends: null for a normal
   * close (server timeout), else the error. Not called after abort().
   */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => void,
    onDone: (err: unknown) => void,
  ): WatchHandle;
}

export interface InformerOptions<T> {
  source: ListWatchSource<T>;
  /** For logs, e.g. the resource plural. */
  name?: string;
  /** Replays every cached object to onResync this often; 0 disables. Default 10 min. */
  resyncPeriodMs?: number;
  /** Restarts a watch that delivered nothing (not even a bookmark) for this long. Default 2 min. */
  watchdogMs?: number;
  /** Backoff after consecutive failures: initial, doubled up to max, plus up to 100% jitter. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

export interface InformerStats {
  lists: number;
  watches: number;
  failures: number;
  watchdogRestarts: number;
}

/** A watch that lived this long without an error counts as healthy (resets the backoff). */
const HEALTHY_WATCH_MS = 1000;

export function isGone(err: unknown): boolean {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  return e?.code === 410 || e?.statusCode === 410;
}

class WatchError extends Error {
  constructor(readonly status: { code?: number; reason?: string; message?: string }) {
    super(
      `watch error: ${status.code ?? ''} ${status.reason ?? ''} ${status.message ?? ''}`.trim(),
    );
  }
  get code(): number | undefined {
    return this.status.code;
  }
}

type WatchOutcome = { error?: unknown; events: number; durationMs: number; watchdog?: boolean };

export class Informer<T extends KubeObject> {
  readonly name: string;
  readonly stats: InformerStats = { lists: 0, watches: 0, failures: 0, watchdogRestarts: 0 };
  readonly #source: ListWatchSource<T>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #resyncPeriodMs: number;
  readonly #watchdogMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #cache = new Map<string, T>();
  readonly #handlers: EventHandler<T>[] = [];
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: Array<(synced: boolean) => void> = [];
  #running: Promise<void> | undefined;
  #stopped = false;
  #stopWatch: (() => void) | undefined;
  #wakeSleep: (() => void) | undefined;
  #resyncTimer: Timer | undefined;

  constructor(options: InformerOptions<T>) {
    this.name = options.name ?? 'informer';
    this.#source = options.source;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#log = (options.logger ?? createLogger('operator')).child({ informer: this.name });
    this.#resyncPeriodMs = options.resyncPeriodMs ?? 600_000;
    this.#watchdogMs = options.watchdogMs ?? 120_000;
    this.#backoffInitialMs = options.backoffInitialMs ?? 1000;
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000;
  }

  /** Adds handlers; a late handler first gets onAdd for every cached object. */
  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    if (this.#synced) for (const obj of this.#cache.values()) this.#call(handler, 'onAdd', obj);
  }

  /** The cached object for "namespace/name" (or "name" if cluster-scoped). */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.#cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /** True once the first list has been loaded into the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, or false if the signal aborts (or the informer stops) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted || this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = (synced: boolean): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(synced);
      };
      const onAbort = (): void => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        resolve(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(waiter);
    });
  }

  /** The resourceVersion the next watch would resume from. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Starts listing and watching in the background. */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#run();
    this.#scheduleResync();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#resyncTimer?.cancel();
    this.#stopWatch?.();
    this.#wakeSleep?.();
    this.#settleSync(false);
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let error: unknown;
      try {
        if (!this.#resourceVersion) await this.#relist();
        if (this.#stopped) break;
        const outcome = await this.#watchOnce();
        // A watch that delivered events or lived a while resets the backoff; one the server
        // closes as soon as it opens counts as a failure even without an error.
        const healthy = outcome.events > 0 || outcome.durationMs >= HEALTHY_WATCH_MS;
        if (healthy || outcome.watchdog) failures = 0;
        error = outcome.error ?? (healthy || outcome.watchdog ? undefined : null);
      } catch (err) {
        error = err; // the list failed
      }
      if (this.#stopped) break;
      if (error === undefined) continue; // normal close or watchdog: resume at once
      if (isGone(error)) {
        this.#log.info('resourceVersion expired (410), relisting');
        this.#resourceVersion = '';
        continue;
      }
      failures++;
      if (error !== null) {
        this.stats.failures++;
        this.#log.warn({ err: error, failures }, 'list/watch failed, retrying');
      }
      await this.#sleep(this.#backoff(failures));
    }
  }

  #backoff(failures: number): number {
    const base = Math.min(this.#backoffInitialMs * 2 ** (failures - 1), this.#backoffMaxMs);
    return base * (1 + this.#random());
  }

  async #relist(): Promise<void> {
    this.stats.lists++;
    const { items, resourceVersion } = await this.#source.list();
    if (this.#stopped) return;
    const fresh = new Map<string, T>();
    for (const obj of items) fresh.set(objectKey(obj), obj);
    // Objects deleted while we were not watching: their last known state.
    for (const [key, old] of this.#cache) {
      if (!fresh.has(key)) {
        this.#cache.delete(key);
        this.#notify('onDelete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.#cache.get(key);
      this.#cache.set(key, obj);
      if (!old) this.#notify('onAdd', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.#notifyUpdate(old, obj);
      }
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#log.info({ objects: fresh.size }, 'cache synced');
      this.#settleSync(true);
    }
  }

  #watchOnce(): Promise<WatchOutcome> {
    this.stats.watches++;
    const started = this.#clock.now();
    let events = 0;
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let watchdog: Timer | undefined;
      const watch: { handle?: WatchHandle } = {}; // set once opened
      const finish = (outcome: Omit<WatchOutcome, 'events' | 'durationMs'>): void => {
        if (settled) return;
        settled = true;
        watchdog?.cancel();
        this.#stopWatch = undefined;
        watch.handle?.abort();
        resolve({ ...outcome, events, durationMs: this.#clock.now() - started });
      };
      const armWatchdog = (): void => {
        watchdog?.cancel();
        watchdog = this.#clock.after(this.#watchdogMs, () => {
          this.stats.watchdogRestarts++;
          this.#log.warn({ quietMs: this.#watchdogMs }, 'watch went quiet, restarting it');
          finish({ watchdog: true });
        });
      };
      watch.handle = this.#source.watch(
        this.#resourceVersion,
        (type, obj) => {
          if (settled) return;
          events++;
          armWatchdog();
          if (type === 'ERROR') {
            finish({ error: new WatchError(obj as { code?: number }) });
            return;
          }
          this.#apply(type, obj);
        },
        (err) => finish(err ? { error: err } : {}),
      );
      if (settled) {
        watch.handle.abort(); // ended while being opened
        return;
      }
      this.#stopWatch = () => finish({});
      if (this.#stopped) finish({});
      else armWatchdog();
    });
  }

  #apply(type: Exclude<WatchEventType, 'ERROR'>, obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (type !== 'BOOKMARK') {
      const key = objectKey(obj);
      const old = this.#cache.get(key);
      if (type === 'DELETED') {
        this.#cache.delete(key);
        this.#notify('onDelete', obj);
      } else {
        this.#cache.set(key, obj);
        if (old) this.#notifyUpdate(old, obj);
        else this.#notify('onAdd', obj);
      }
    }
    if (rv) this.#resourceVersion = rv;
  }

  #scheduleResync(): void {
    if (this.#resyncPeriodMs <= 0 || this.#stopped) return;
    this.#resyncTimer = this.#clock.after(this.#resyncPeriodMs, () => {
      if (this.#synced) {
        for (const obj of [...this.#cache.values()]) this.#notify('onResync', obj);
      }
      this.#scheduleResync();
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.after(ms, () => {
        this.#wakeSleep = undefined;
        resolve();
      });
      this.#wakeSleep = () => {
        timer.cancel();
        this.#wakeSleep = undefined;
        resolve();
      };
    });
  }

  #settleSync(synced: boolean): void {
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w(synced);
  }

  #notify(kind: 'onAdd' | 'onDelete' | 'onResync', obj: T): void {
    for (const h of this.#handlers) this.#call(h, kind, obj);
  }

  #notifyUpdate(oldObj: T, newObj: T): void {
    for (const h of this.#handlers) {
      try {
        h.onUpdate?.(oldObj, newObj);
      } catch (err) {
        this.#log.error({ err }, 'event handler onUpdate failed');
      }
    }
  }

  #call(h: EventHandler<T>, kind: 'onAdd' | 'onDelete' | 'onResync', obj: T): void {
    try {
      h[kind]?.(obj);
    } catch (err) {
      // A handler bug must not stop the informer.
      this.#log.error({ err }, `event handler ${kind} failed`);
    }
  }
}
