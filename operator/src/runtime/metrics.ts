// Prometheus metrics with controller-runtime's names and labels, on a caller-owned Registry so
// tests (and several operators in one process) never collide in prom-client's global registry.
import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';

export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';
const RESULTS: readonly ReconcileResultLabel[] = ['success', 'error', 'requeue', 'requeue_after'];

// controller-runtime's reconcile_time_seconds buckets (pkg/internal/controller/metrics).
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
  1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// client-go workqueue buckets: 10 ns … 1000 s.
const QUEUE_BUCKETS = exponentialBuckets(10e-9, 10, 12);

/** What a work queue reports; a no-op instance is used when no registry is given. */
export interface WorkQueueMetrics {
  setDepth(depth: number): void;
  added(): void;
  /** Seconds an item waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker held an item (get → done). */
  worked(seconds: number): void;
  retried(): void;
  /** Sampled at scrape time for the unfinished-work and longest-running gauges. */
  trackInFlight(sample: () => { unfinishedSeconds: number; longestSeconds: number }): void;
  /** Drops the queue's in-flight sampler (on shutdown). */
  untrack(): void;
}

export interface ControllerMetrics {
  reconciled(result: ReconcileResultLabel, seconds: number): void;
  activeWorkers(delta: number): void;
}

export const noopWorkQueueMetrics: WorkQueueMetrics = {
  setDepth() {},
  added() {},
  queued() {},
  worked() {},
  retried() {},
  trackInFlight() {},
  untrack() {},
};

export const noopControllerMetrics: ControllerMetrics = {
  reconciled() {},
  activeWorkers() {},
};

type InFlightSampler = () => { unfinishedSeconds: number; longestSeconds: number };

const byRegistry = new WeakMap<Registry, RuntimeMetrics>();

export class RuntimeMetrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name'>;
  readonly queueAdds: Counter<'name'>;
  readonly queueDuration: Histogram<'name'>;
  readonly workDuration: Histogram<'name'>;
  readonly queueRetries: Counter<'name'>;
  readonly unfinishedWork: Gauge<'name'>;
  readonly longestRunning: Gauge<'name'>;
  readonly leaderStatus: Gauge<'name'>;
  readonly #samplers = new Map<string, InFlightSampler>();

  /** One set of metrics per registry: prom-client refuses to register a name twice. */
  static for(registry: Registry): RuntimeMetrics {
    let m = byRegistry.get(registry);
    if (!m) {
      m = new RuntimeMetrics(registry);
      byRegistry.set(registry, m);
    }
    return m;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    const samplers = this.#samplers;
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.unfinishedWork = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        'How many seconds of work has been done that is in progress and has not been observed by ' +
        'work_duration. Large values indicate stuck threads.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, sample] of samplers) this.set({ name }, sample().unfinishedSeconds);
      },
    });
    this.longestRunning = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, sample] of samplers) this.set({ name }, sample().longestSeconds);
      },
    });
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      labelNames: ['name'],
      registers,
    });
  }

  workQueue(name: string): WorkQueueMetrics {
    const labels = { name };
    // Present from the start, as in client-go, so dashboards see zeros rather than gaps.
    this.queueDepth.set(labels, 0);
    this.queueAdds.inc(labels, 0);
    this.queueRetries.inc(labels, 0);
    return {
      setDepth: (depth) => this.queueDepth.set(labels, depth),
      added: () => this.queueAdds.inc(labels),
      queued: (s) => this.queueDuration.observe(labels, s),
      worked: (s) => this.workDuration.observe(labels, s),
      retried: () => this.queueRetries.inc(labels),
      trackInFlight: (sample) => void this.#samplers.set(name, sample),
      untrack: () => {
        this.#samplers.delete(name);
        this.unfinishedWork.set(labels, 0);
        this.longestRunning.set(labels, 0);
      },
    };
  }

  controller(name: string, maxConcurrentReconciles: number): ControllerMetrics {
    const labels = { controller: name };
    for (const result of RESULTS) this.reconcileTotal.inc({ controller: name, result }, 0);
    this.reconcileErrors.inc(labels, 0);
    this.activeWorkers.set(labels, 0);
    this.maxConcurrentReconciles.set(labels, maxConcurrentReconciles);
    return {
      reconciled: (result, seconds) => {
        this.reconcileTotal.inc({ controller: name, result });
        if (result === 'error') this.reconcileErrors.inc(labels);
        this.reconcileTime.observe(labels, seconds);
      },
      activeWorkers: (delta) => this.activeWorkers.inc(labels, delta),
    };
  }

  /** Sets leader_election_master_status{name} to 1 (leading) or 0. */
  setLeader(name: string, leading: boolean): void {
    this.leaderStatus.set({ name }, leading ? 1 : 0);
  }
}
