// One entry point for a suite's real components: start what it asks for, stop all of it.
//   const bed = await startTestBed({ kubernetes: { nodes }, redis: true });
//   ... bed.kubernetes.kubeConfig, bed.redis.url ...
//   await bed.stop();
// Thin by design: each part is the existing start function with its own options.
import type * as Mediasoup from 'mediasoup';
import type { WorkerSettings } from 'mediasoup/types';
import type { CassandraHandle, CassandraOptions } from './cassandra.js';
import type { LaunchChromiumOptions, LaunchedChromium } from './chromium.js';
import { TestBedError } from './errors.js';
import type { KubernetesHandle, StartKubernetesOptions } from './kube.js';
import type { RedisHandle, RedisOptions } from './redis.js';

/** `true` starts a part with its defaults, an object passes options, false/absent skips it. */
export interface TestBedOptions {
  kubernetes?: boolean | StartKubernetesOptions;
  redis?: boolean | RedisOptions;
  cassandra?: boolean | CassandraOptions;
  /** A mediasoup worker running the project's own build (media-pod/worker-build). */
  mediasoup?: boolean | WorkerSettings;
  /** Headless Chromium (Debian's) with a fake microphone, driven by playwright-core. */
  chromium?: boolean | LaunchChromiumOptions;
}

interface Handles {
  kubernetes: KubernetesHandle;
  redis: RedisHandle;
  cassandra: CassandraHandle;
  mediasoup: Mediasoup.types.Worker;
  chromium: LaunchedChromium;
}

type PartName = keyof Handles;

/** Start order; stop() goes the other way (clients before the servers they may talk to). */
const ORDER: readonly PartName[] = ['redis', 'cassandra', 'kubernetes', 'mediasoup', 'chromium'];

/** A requested part is typed as present, a skipped one as undefined, a maybe one as optional. */
type Part<Wanted, Handle> = [Wanted] extends [false | undefined]
  ? undefined
  : [Wanted] extends [true | object]
    ? Handle
    : Handle | undefined;

export type TestBed<O extends TestBedOptions> = {
  readonly [K in PartName]: Part<K extends keyof O ? O[K] : undefined, Handles[K]>;
} & {
  /** Stops every started part in reverse start order; throws an AggregateError of what failed. */
  stop(): Promise<void>;
};

type Starters = { [K in PartName]: (options: object) => Promise<Handles[K]> };
type Stoppers = { [K in PartName]: (handle: Handles[K]) => Promise<void> };

// Imported on demand, so a Redis-only suite does not load mediasoup or playwright.
const starters: Starters = {
  redis: async (o) => (await import('./redis.js')).startRedis(o),
  cassandra: async (o) => (await import('./cassandra.js')).startCassandra(o),
  kubernetes: async (o) => (await import('./kube.js')).startKubernetes(o),
  mediasoup: async (o) => (await import('./mediasoup.js')).createTestWorker(o),
  chromium: async (o) => (await import('./chromium.js')).launchChromium(o),
};

const stoppers: Stoppers = {
  redis: (h) => h.stop(),
  cassandra: (h) => h.stop(),
  kubernetes: (h) => h.stop(),
  mediasoup: stopWorker,
  chromium: (h) => h.close(),
};

/**
 * Starts the requested parts concurrently (they are independent, and the slow ones, Cassandra and
 * Kubernetes, overlap well). If any fails, the ones that started are stopped before it throws.
 */
export async function startTestBed<const O extends TestBedOptions>(
  options: O,
): Promise<TestBed<O>> {
  const wanted = ORDER.filter((name) => options[name]);
  const results = await Promise.allSettled(
    wanted.map((name) => {
      const value = options[name];
      return starters[name](typeof value === 'object' ? value : {});
    }),
  );
  const started = new Map<PartName, unknown>();
  const failures: unknown[] = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') started.set(wanted[i]!, result.value);
    else failures.push(labelled(wanted[i]!, 'start', result.reason));
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopAll(started);
    return stopping;
  };

  if (failures.length > 0) {
    try {
      await stop();
    } catch (error) {
      failures.push(...(error as AggregateError).errors);
    }
    if (failures.length === 1) throw failures[0];
    throw new AggregateError(failures, `test bed: ${failures.length} failures starting`);
  }

  const bed: Record<string, unknown> = { stop };
  for (const name of ORDER) bed[name] = started.get(name);
  return bed as TestBed<O>;
}

async function stopAll(started: ReadonlyMap<PartName, unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const name of [...ORDER].reverse()) {
    const handle = started.get(name);
    if (handle === undefined) continue;
    try {
      await (stoppers[name] as (h: unknown) => Promise<void>)(handle);
    } catch (error) {
      errors.push(labelled(name, 'stop', error));
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, `test bed: ${errors.length} parts failed to stop`);
  }
}

/** Worker.close() only signals the worker process: wait until it is gone (SIGKILL after 5 s). */
async function stopWorker(worker: Mediasoup.types.Worker): Promise<void> {
  const gone = worker.subprocessClosed
    ? Promise.resolve()
    : new Promise<void>((resolveGone) => worker.once('subprocessclose', resolveGone));
  const pid = worker.pid;
  worker.close();
  const timer = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5_000);
  try {
    await gone;
  } finally {
    clearTimeout(timer);
  }
}

function labelled(name: PartName, phase: 'start' | 'stop', cause: unknown): Error {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new TestBedError(`${name} failed to ${phase}: ${message}`, { cause });
}
