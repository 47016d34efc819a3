import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FakeClock, flushPromises } from './clock.js';
import {
  Controller,
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type Result,
  type Watchable,
} from './controller.js';
import { enqueueForObject, enqueueForOwner, type EventHandler } from './handlers.js';
import type { KubeObject } from './keys.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function captureLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { logger, lines };
}

class FakeSource<T extends KubeObject> implements Watchable<T> {
  handlers: EventHandler<T>[] = [];
  synced = deferred<boolean>();
  addEventHandler(h: EventHandler<T>): void {
    this.handlers.push(h);
  }
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    signal?.addEventListener('abort', () => this.synced.resolve(false));
    return this.synced.promise;
  }
  emitAdd(obj: T): void {
    for (const h of this.handlers) h.onAdd?.(obj);
  }
}

interface Harness {
  clock: FakeClock;
  registry: Registry;
  controller: Controller;
  calls: string[];
  lines: Array<Record<string, unknown>>;
}

function harness(
  reconcile: Reconciler,
  extra: { workers?: number; baseBackoffMs?: number } = {},
): Harness {
  const clock = new FakeClock();
  const registry = new Registry();
  const { logger, lines } = captureLogger();
  const calls: string[] = [];
  const controller = new Controller({
    name: 'room',
    clock,
    registry,
    logger,
    maxConcurrentReconciles: extra.workers ?? 1,
    rateLimiter: new ItemExponentialFailureRateLimiter(extra.baseBackoffMs ?? 100, 10_000),
    reconcile: (key, ctx) => {
      calls.push(key);
      return reconcile(key, ctx);
    },
  });
  return { clock, registry, controller, calls, lines };
}

async function metric(registry: Registry, name: string, labels: Record<string, string>) {
  const m = await registry.getSingleMetric(name)!.get();
  const match = m.values.find((v) =>
    Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return match?.value;
}

describe('Controller', () => {
  it('reconciles an added key once and counts a success', async () => {
    const h = harness(async () => ({}));
    await h.controller.start();
    h.controller.add('ns/a');
    await flushPromises();
    expect(h.calls).toEqual(['ns/a']);
    expect(
      await metric(h.registry, 'controller_runtime_reconcile_total', { result: 'success' }),
    ).toBe(1);
    expect(await metric(h.registry, 'controller_runtime_max_concurrent_reconciles', {})).toBe(1);
    await h.controller.stop();
  });

  it('passes namespace, name and a logger naming the object', async () => {
    let seen: ReconcileContext | undefined;
    const h = harness(async (_k, ctx) => {
      seen = ctx;
      ctx.log.info('hello');
    });
    await h.controller.start();
    h.controller.add('ns/a');
    await flushPromises();
    expect(seen).toMatchObject({ key: 'ns/a', namespace: 'ns', name: 'a' });
    const line = h.lines.find((l) => l.msg === 'hello');
    expect(line).toMatchObject({ controller: 'room', object: 'ns/a', namespace: 'ns', name: 'a' });
    expect(typeof line?.reconcileID).toBe('string');
    await h.controller.stop();
  });

  it('retries errors with growing backoff and resets it after a success', async () => {
    let failures = 3;
    const h = harness(async () => {
      if (failures-- > 0) throw new Error('boom');
    });
    await h.controller.start();
    h.controller.add('ns/a');
    await flushPromises();
    expect(h.calls).toHaveLength(1);
    expect(h.controller.queue.numRequeues('ns/a')).toBe(1);
    await h.clock.advance(99);
    expect(h.calls).toHaveLength(1);
    await h.clock.advance(1); // 100 ms
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(200); // 200 ms
    expect(h.calls).toHaveLength(3);
    await h.clock.advance(400); // 400 ms, then success
    expect(h.calls).toHaveLength(4);
    expect(h.controller.queue.numRequeues('ns/a')).toBe(0);
    expect(
      await metric(h.registry, 'controller_runtime_reconcile_total', { result: 'error' }),
    ).toBe(3);
    expect(await metric(h.registry, 'controller_runtime_reconcile_errors_total', {})).toBe(3);
    expect(h.lines.filter((l) => l.msg === 'Reconciler error')).toHaveLength(3);
    expect(h.lines.find((l) => l.msg === 'Reconciler error')).toMatchObject({
      object: 'ns/a',
      err: { message: 'boom' },
    });
    await h.controller.stop();
  });

  it('does not requeue a TerminalError', async () => {
    const h = harness(async () => {
      throw new TerminalError('bad spec');
    });
    await h.controller.start();
    h.controller.add('ns/a');
    await h.clock.advance(60_000);
    expect(h.calls).toEqual(['ns/a']);
    expect(h.controller.queue.waiting()).toBe(0);
    expect(
      await metric(h.registry, 'controller_runtime_reconcile_total', { result: 'error' }),
    ).toBe(1);
    await h.controller.stop();
  });

  it('requeueAfterMs reconciles again after the delay, with the backoff reset', async () => {
    const results: Result[] = [{ requeue: true }, { requeueAfterMs: 5000 }, {}];
    const h = harness(async () => results.shift() ?? {});
    await h.controller.start();
    h.controller.add('ns/a');
    await flushPromises();
    expect(h.controller.queue.numRequeues('ns/a')).toBe(1); // requeue: rate-limited
    await h.clock.advance(100);
    expect(h.calls).toHaveLength(2);
    expect(h.controller.queue.numRequeues('ns/a')).toBe(0); // requeueAfter forgets
    await h.clock.advance(4999);
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(1);
    expect(h.calls).toHaveLength(3);
    const total = (result: string) =>
      metric(h.registry, 'controller_runtime_reconcile_total', { result });
    expect([await total('requeue'), await total('requeue_after'), await total('success')]).toEqual([
      1, 1, 1,
    ]);
    await h.controller.stop();
  });

  it('runs different keys in parallel but never the same key twice at once', async () => {
    const gates = new Map<string, { resolve: () => void }>();
    let active = 0;
    let maxActive = 0;
    const activeKeys = new Set<string>();
    let overlap = false;
    const h = harness(
      async (key) => {
        if (activeKeys.has(key)) overlap = true;
        activeKeys.add(key);
        maxActive = Math.max(maxActive, ++active);
        const gate = deferred();
        gates.set(key, gate);
        await gate.promise;
        active--;
        activeKeys.delete(key);
      },
      { workers: 3 },
    );
    await h.controller.start();
    h.controller.add('ns/a');
    h.controller.add('ns/b');
    await flushPromises();
    expect(await metric(h.registry, 'controller_runtime_active_workers', {})).toBe(2);
    h.controller.add('ns/a'); // while a is running: dirty, not a second worker
    h.controller.add('ns/a');
    await flushPromises();
    expect(h.calls).toEqual(['ns/a', 'ns/b']);
    gates.get('ns/a')!.resolve();
    await flushPromises();
    expect(h.calls).toEqual(['ns/a', 'ns/b', 'ns/a']);
    gates.get('ns/a')!.resolve();
    gates.get('ns/b')!.resolve();
    await flushPromises();
    expect(overlap).toBe(false);
    expect(maxActive).toBe(2);
    expect(h.calls).toHaveLength(3);
    await h.controller.stop();
  });

  it('stop() waits for in-flight reconciles and starts no new ones', async () => {
    const gate = deferred();
    const h = harness(async (key) => {
      if (key === 'ns/a') await gate.promise;
    });
    await h.controller.start();
    h.controller.add('ns/a');
    await flushPromises();
    h.controller.add('ns/b');
    let stopped = false;
    const stop = h.controller.stop().then(() => (stopped = true));
    await flushPromises();
    expect(stopped).toBe(false);
    gate.resolve();
    await stop;
    expect(h.calls).toEqual(['ns/a']);
  });

  it('stop() aborts the reconcile signal once the grace period is over', async () => {
    let signal: AbortSignal | undefined;
    const h = harness(
      (_k, ctx) =>
        new Promise<Result>((resolve) => {
          signal = ctx.signal;
          ctx.signal.addEventListener('abort', () => resolve({}));
        }),
    );
    await h.controller.start();
    h.controller.add('ns/a');
    await flushPromises();
    const stop = h.controller.stop({ abortAfterMs: 1000 });
    await h.clock.advance(999);
    expect(signal?.aborted).toBe(false);
    await h.clock.advance(1);
    await stop;
    expect(signal?.aborted).toBe(true);
  });

  it('waits for watched caches before starting workers and wires handlers to the queue', async () => {
    const source = new FakeSource<KubeObject>();
    const h = harness(async () => {});
    h.controller.watch(source, enqueueForObject(h.controller));
    const starting = h.controller.start();
    source.emitAdd({ metadata: { namespace: 'ns', name: 'early' } });
    await flushPromises();
    expect(h.controller.started).toBe(false);
    expect(h.calls).toEqual([]);
    source.synced.resolve(true);
    await starting;
    await flushPromises();
    expect(h.calls).toEqual(['ns/early']);
    await h.controller.stop();
  });

  it('maps owned objects to their controller owner', async () => {
    const rooms = new FakeSource<KubeObject>();
    const pods = new FakeSource<KubeObject>();
    const h = harness(async () => {});
    h.controller
      .watch(rooms, enqueueForObject(h.controller))
      .watch(
        pods,
        enqueueForOwner(h.controller, { apiVersion: 'amphi.dev/v1alpha1', kind: 'Room' }),
      );
    rooms.synced.resolve(true);
    pods.synced.resolve(true);
    await h.controller.start();
    pods.emitAdd({
      metadata: {
        namespace: 'ns',
        name: 'room-x-0',
        ownerReferences: [
          { apiVersion: 'amphi.dev/v1alpha1', kind: 'Room', name: 'x', uid: 'u', controller: true },
        ],
      },
    });
    await flushPromises();
    expect(h.calls).toEqual(['ns/x']);
    await h.controller.stop();
  });

  it('start() fails when caches do not sync in time', async () => {
    const source = new FakeSource<KubeObject>();
    const clock = new FakeClock();
    const controller = new Controller({
      name: 'slow',
      clock,
      logger: pino({ level: 'silent' }),
      cacheSyncTimeoutMs: 1000,
      reconcile: async () => {},
    });
    controller.watch(source, enqueueForObject(controller));
    const starting = controller.start();
    const outcome = starting.then(
      () => 'started',
      (e: Error) => e.message,
    );
    await clock.advance(1000);
    expect(await outcome).toMatch(/timed out waiting for caches/);
    expect(controller.started).toBe(false);
  });

  it('stop() during the cache wait makes start() return without workers', async () => {
    const source = new FakeSource<KubeObject>();
    const h = harness(async () => {});
    h.controller.watch(source, enqueueForObject(h.controller));
    const starting = h.controller.start();
    await h.controller.stop();
    await starting;
    expect(h.controller.started).toBe(false);
  });
});
