// Lease-based leader election after client-go's tools/leaderelection: acquire by create or an
// optimistic replace (409 = lost the race), renew every retry period, give up when a renewal has
// not succeeded within the renew deadline, and release the lease on a graceful stop.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  V1MicroTime,
  type CoordinationV1Api,
  type V1Lease,
  type V1LeaseSpec,
} from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { realClock, type Clock } from './clock.js';
import { RuntimeMetrics } from './metrics.js';

/** The three calls leader election needs; CoordinationV1Api satisfies it. */
export type LeaseApi = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

export interface LeaderElectionOptions {
  api: LeaseApi;
  /** Lease name; also the leader_election_master_status name label. */
  name: string;
  namespace: string;
  /** Unique per process. Default: hostname_uuid, as controller-runtime. */
  identity?: string;
  /** How long a lease is valid without renewal (others wait this long). Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it cannot renew for this long. Must be < leaseDurationMs. Default 10 s. */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Hand the lease back on stop() so a successor need not wait for it to expire. Default true. */
  releaseOnCancel?: boolean;
  /**
   * Called on becoming leader. The signal aborts when leadership ends (stop() or lost); if a
   * promise is returned, the lease is held (and renewed) until it settles, so work can drain.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once after leading ends (never if this process did not lead). */
  onStoppedLeading?: (reason: 'stopped' | 'lost') => void;
  /** Called when a different holder is observed. */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  /** For the retry jitter; injectable for tests. */
  random?: () => number;
  logger?: Logger;
  registry?: Registry;
}

const JITTER_FACTOR = 1.2;

function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

// Lease times come back from client-node as strings (MicroTime is not in its type map) but go
// out as V1MicroTime; compare them as text.
function timeText(t: unknown): string {
  if (t instanceof Date) return t.toISOString();
  return typeof t === 'string' ? t : '';
}

function recordText(spec: V1LeaseSpec | undefined): string {
  if (!spec) return '';
  return [
    spec.holderIdentity ?? '',
    spec.leaseDurationSeconds ?? 0,
    timeText(spec.acquireTime),
    timeText(spec.renewTime),
    spec.leaseTransitions ?? 0,
  ].join('|');
}

export class LeaderElector {
  readonly identity: string;
  readonly #o: Required<
    Pick<
      LeaderElectionOptions,
      'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'releaseOnCancel'
    >
  > &
    LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #metrics: RuntimeMetrics | undefined;
  // What we last saw in the lease, and when (by our clock: remote times are not trusted).
  #observed: V1LeaseSpec | undefined;
  #observedText = '';
  #observedAt = 0;
  // Our last successful write, for release without a read.
  #lastLease: V1Lease | undefined;
  #leading = false;
  // Aborted when leadership ends: onStartedLeading's signal.
  #abort: AbortController | undefined;
  #stopRequested = false;
  #workDone = false;
  #wakers = new Set<() => void>();
  #run: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      releaseOnCancel: true,
      ...options,
    };
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs) {
      throw new Error('leader election: renewDeadlineMs must be less than leaseDurationMs');
    }
    if (this.#o.retryPeriodMs * JITTER_FACTOR >= this.#o.renewDeadlineMs) {
      throw new Error('leader election: renewDeadlineMs must exceed retryPeriodMs * 1.2');
    }
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#log = (options.logger ?? createLogger('operator')).child({
      lease: `${options.namespace}/${options.name}`,
      identity: this.identity,
    });
    this.#metrics = options.registry ? RuntimeMetrics.for(options.registry) : undefined;
    this.#metrics?.setLeader(options.name, false);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last seen in the lease ('' when free or unknown). */
  leader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /** Campaigns, leads, and resolves once leadership has ended (stopped or lost). Runs once. */
  run(): Promise<void> {
    if (this.#run) throw new Error('leader election: run() may be called once');
    this.#run = this.#campaign();
    return this.#run;
  }

  /** Ends the campaign or leadership (draining onStartedLeading's work, then releasing). */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#abort?.abort();
    this.#wake();
    await this.#run;
  }

  async #campaign(): Promise<void> {
    this.#log.info('attempting to acquire leader lease');
    if (!(await this.#acquire())) return;
    this.#log.info('successfully acquired lease');
    this.#leading = true;
    this.#metrics?.setLeader(this.#o.name, true);
    this.#abort = new AbortController();
    if (this.#stopRequested) this.#abort.abort();
    const work = Promise.resolve()
      .then(() => this.#o.onStartedLeading(this.#abort!.signal))
      .catch((err: unknown) => this.#log.error({ err }, 'onStartedLeading failed'))
      .finally(() => {
        this.#workDone = true;
        this.#wake();
      });
    const reason = await this.#renewLoop();
    this.#abort.abort();
    if (reason === 'lost') this.#log.error('leader election lost');
    await work;
    if (reason === 'stopped' && this.#o.releaseOnCancel) await this.#release();
    this.#leading = false;
    this.#metrics?.setLeader(this.#o.name, false);
    try {
      this.#o.onStoppedLeading?.(reason);
    } catch (err) {
      this.#log.error({ err }, 'onStoppedLeading failed');
    }
  }

  async #acquire(): Promise<boolean> {
    while (!this.#stopRequested) {
      if (await this.#tryAcquireOrRenew()) return true;
      const jittered = this.#o.retryPeriodMs * (1 + this.#random() * JITTER_FACTOR);
      await this.#sleep(jittered);
    }
    return false;
  }

  async #renewLoop(): Promise<'stopped' | 'lost'> {
    for (;;) {
      if (this.#stopRequested && this.#workDone) return 'stopped';
      // One renewal: retry until it succeeds or the renew deadline passes.
      const deadline = this.#clock.now() + this.#o.renewDeadlineMs;
      for (;;) {
        if (await this.#beforeDeadline(this.#tryAcquireOrRenew(), deadline)) break;
        const left = deadline - this.#clock.now();
        if (left <= 0) return 'lost';
        await this.#sleep(Math.min(this.#o.retryPeriodMs, left));
      }
      if (this.#stopRequested && this.#workDone) return 'stopped';
      await this.#sleep(this.#o.retryPeriodMs);
    }
  }

  /** attempt's outcome, or false if the deadline passes first (a hung request must not count). */
  #beforeDeadline(attempt: Promise<boolean>, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#clock.after(deadline - this.#clock.now(), () => resolve(false));
      void attempt.then((ok) => {
        timer.cancel();
        resolve(ok); // no-op if the deadline already resolved it
      });
    });
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { api, name, namespace } = this.#o;
    const now = this.#clock.now();
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusCode(err) !== 404) {
        this.#log.warn({ err }, 'error retrieving lease');
        return false;
      }
      try {
        const body: V1Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: this.#mySpec(now, undefined),
        };
        this.#lastLease = await api.createNamespacedLease({ namespace, body });
        this.#observe(this.#lastLease.spec, now);
        return true;
      } catch (createErr) {
        this.#log.debug({ err: createErr }, 'error creating lease');
        return false;
      }
    }
    const spec = lease.spec ?? {};
    this.#observe(spec, now);
    const holder = spec.holderIdentity ?? '';
    const validUntil = this.#observedAt + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.identity && validUntil > now) {
      return false; // held by someone else and not expired
    }
    try {
      this.#lastLease = await api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: this.#mySpec(now, spec) },
      });
      this.#observe(this.#lastLease.spec, now);
      return true;
    } catch (err) {
      // 409: someone else wrote the lease since we read it.
      if (statusCode(err) === 409) this.#log.debug('lease update conflict');
      else this.#log.warn({ err }, 'error updating lease');
      return false;
    }
  }

  #mySpec(now: number, old: V1LeaseSpec | undefined): V1LeaseSpec {
    const held = old?.holderIdentity === this.identity;
    const transitions = old?.leaseTransitions ?? 0;
    return {
      ...old,
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      // V1MicroTime serialises with 6 fractional digits; a plain Date's 3 are rejected.
      acquireTime: held && old?.acquireTime ? old.acquireTime : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      // Every change of holder counts, taking over a released (empty) lease included.
      leaseTransitions: old === undefined || held ? transitions : transitions + 1,
    };
  }

  #observe(spec: V1LeaseSpec | undefined, now: number): void {
    const text = recordText(spec);
    if (text === this.#observedText) return;
    const before = this.#observed?.holderIdentity ?? '';
    this.#observed = spec;
    this.#observedText = text;
    this.#observedAt = now;
    const holder = spec?.holderIdentity ?? '';
    if (holder !== '' && holder !== before) {
      this.#log.info({ leader: holder }, 'new leader observed');
      try {
        this.#o.onNewLeader?.(holder);
      } catch (err) {
        this.#log.error({ err }, 'onNewLeader failed');
      }
    }
  }

  /** Hands the lease back: empty holder and a 1 s duration, so a candidate takes it at once. */
  async #release(): Promise<void> {
    const lease = this.#lastLease;
    if (!lease?.spec || lease.spec.holderIdentity !== this.identity) return;
    const now = new V1MicroTime(this.#clock.now());
    try {
      this.#lastLease = await this.#o.api.replaceNamespacedLease({
        name: this.#o.name,
        namespace: this.#o.namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
          },
        },
      });
      this.#log.info('released leader lease');
    } catch (err) {
      this.#log.warn({ err }, 'failed to release lease');
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        this.#wakers.delete(done);
        resolve();
      };
      const timer = this.#clock.after(ms, done);
      this.#wakers.add(done);
    });
  }

  #wake(): void {
    for (const done of [...this.#wakers]) done();
  }
}
