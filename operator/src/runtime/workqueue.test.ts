import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { FakeClock, flushPromises } from './clock.js';
import { RuntimeMetrics } from './metrics.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

/** Resolves with the key, or 'pending' if get() did not resolve within a macrotask turn. */
async function tryGet(q: WorkQueue): Promise<string | undefined | 'pending'> {
  return Promise.race([q.get(), flushPromises().then(() => 'pending' as const)]);
}

describe('WorkQueue', () => {
  it('hands keys out in FIFO order and collapses repeated adds', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('get() waits until a key is added', async () => {
    const q = new WorkQueue();
    const got = q.get();
    await flushPromises();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('never hands a key to two workers; a re-add while processing is queued at done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(1);
    const second = q.get();
    await flushPromises();
    let handed: string | undefined;
    void second.then((k) => (handed = k));
    await flushPromises();
    expect(handed).toBeUndefined(); // 'a' is still being processed
    q.done('a');
    expect(await second).toBe('a');
    q.done('a');
    expect(await tryGet(q)).toBe('pending'); // the two re-adds became one
  });

  it('done() without a re-add does not re-queue', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
    expect(await tryGet(q)).toBe('pending');
  });

  it('serves concurrent getters one key each', async () => {
    const q = new WorkQueue();
    const g1 = q.get();
    const g2 = q.get();
    q.add('a');
    q.add('b');
    expect(await Promise.all([g1, g2])).toEqual(['a', 'b']);
  });

  it('addAfter adds after the delay; the earliest deadline wins', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000); // later: ignored
    expect(q.waiting()).toBe(1);
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    await clock.advance(10_000);
    expect(q.len()).toBe(0); // the cancelled timers did not fire
  });

  it('addAfter with a non-positive delay adds at once', () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.addAfter('a', 0);
    expect(q.len()).toBe(1);
  });

  it('addRateLimited backs off exponentially until forget()', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter(10, 1000),
    });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.now() - start);
      await q.get();
      q.done('a');
    }
    expect(delays).toEqual([10, 20, 40]);
    expect(q.numRequeues('a')).toBe(3);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    q.addRateLimited('a');
    await clock.advance(10);
    expect(q.len()).toBe(1);
  });

  it('shutDown resolves waiting getters with undefined and refuses adds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('later', 100);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('a');
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    await clock.advance(1000);
    expect(q.len()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('shutDownWithDrain waits for keys being processed, without re-queuing dirty ones', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    await q.get();
    await q.get();
    q.add('a'); // dirty while processing
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.done('a');
    await flushPromises();
    expect(drained).toBe(false);
    q.done('b');
    await drain;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  it('shutDownWithDrain resolves at once when nothing is in flight', async () => {
    const q = new WorkQueue();
    await expect(q.shutDownWithDrain()).resolves.toBeUndefined();
  });

  it('reports workqueue metrics', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const q = new WorkQueue({
      name: 'rooms',
      clock,
      metrics: RuntimeMetrics.for(registry).workQueue('rooms'),
    });
    const value = async (metric: string): Promise<number> => {
      const m = await registry.getSingleMetric(metric)!.get();
      return m.values.find((v) => v.labels.name === 'rooms' && !('le' in v.labels))?.value ?? NaN;
    };
    q.add('a');
    q.add('a');
    q.add('b');
    expect(await value('workqueue_adds_total')).toBe(2);
    expect(await value('workqueue_depth')).toBe(2);
    await clock.advance(250);
    await q.get();
    expect(await value('workqueue_depth')).toBe(1);
    await clock.advance(2000);
    expect(await value('workqueue_unfinished_work_seconds')).toBe(2);
    expect(await value('workqueue_longest_running_processor_seconds')).toBe(2);
    q.done('a');
    q.addAfter('a', 5);
    expect(await value('workqueue_retries_total')).toBe(1);
    const sum = async (metric: string): Promise<number | undefined> => {
      const values = (await registry.getSingleMetric(metric)!.get()).values as Array<{
        metricName?: string;
        value: number;
      }>;
      return values.find((v) => v.metricName?.endsWith('_sum'))?.value;
    };
    expect(await sum('workqueue_queue_duration_seconds')).toBeCloseTo(0.25);
    expect(await sum('workqueue_work_duration_seconds')).toBeCloseTo(2);
  });
});
