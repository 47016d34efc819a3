import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeClock, flushPromises } from './clock.js';
import {
  Informer,
  type InformerOptions,
  type ListResult,
  type ListWatchSource,
  type WatchEventType,
} from './informer.js';
import type { KubeObject } from './keys.js';

type Obj = KubeObject & { data?: string };

const obj = (name: string, rv: string, data?: string): Obj => ({
  metadata: { namespace: 'ns', name, resourceVersion: rv },
  ...(data === undefined ? {} : { data }),
});

interface FakeWatch {
  rv: string;
  aborted: boolean;
  event(type: WatchEventType, o: unknown): void;
  end(err?: unknown): void;
}

class FakeSource implements ListWatchSource<Obj> {
  listResult: ListResult<Obj> | Error = { items: [], resourceVersion: '1' };
  lists = 0;
  watches: FakeWatch[] = [];

  async list(): Promise<ListResult<Obj>> {
    this.lists++;
    if (this.listResult instanceof Error) throw this.listResult;
    return structuredClone(this.listResult);
  }

  watch(
    rv: string,
    onEvent: (type: WatchEventType, o: Obj) => void,
    onDone: (err: unknown) => void,
  ) {
    const w: FakeWatch = {
      rv,
      aborted: false,
      event: (type, o) => !w.aborted && onEvent(type, o as Obj),
      end: (err) => !w.aborted && onDone(err ?? null),
    };
    this.watches.push(w);
    return { abort: () => void (w.aborted = true) };
  }

  get current(): FakeWatch {
    return this.watches.at(-1)!;
  }
}

function setup(extra: Partial<InformerOptions<Obj>> = {}) {
  const clock = new FakeClock();
  const source = new FakeSource();
  const log: string[] = [];
  const informer = new Informer<Obj>({
    source,
    clock,
    random: () => 0,
    logger: pino({ level: 'silent' }),
    resyncPeriodMs: 0,
    watchdogMs: 60_000,
    ...extra,
  });
  informer.addEventHandler({
    onAdd: (o) => log.push(`add ${o.metadata!.name}`),
    onUpdate: (a, b) => log.push(`update ${a.metadata!.name} ${a.data}->${b.data}`),
    onDelete: (o) => log.push(`delete ${o.metadata!.name}`),
    onResync: (o) => log.push(`resync ${o.metadata!.name}`),
  });
  return { clock, source, informer, log };
}

describe('Informer', () => {
  it('lists into the cache, syncs, then watches from the list resourceVersion', async () => {
    const { source, informer, log } = setup();
    source.listResult = { items: [obj('a', '5'), obj('b', '6')], resourceVersion: '7' };
    const synced = informer.waitForSync();
    informer.start();
    expect(await synced).toBe(true);
    await flushPromises();
    expect(informer.hasSynced()).toBe(true);
    expect(log).toEqual(['add a', 'add b']);
    expect(informer.get('ns/a')?.metadata?.resourceVersion).toBe('5');
    expect(informer.list('ns').map((o) => o.metadata!.name)).toEqual(['a', 'b']);
    expect(informer.list('other')).toEqual([]);
    expect(source.current.rv).toBe('7');
    await informer.stop();
  });

  it('applies watch events to the cache and tracks the resourceVersion, bookmarks included', async () => {
    const { source, informer, log } = setup();
    informer.start();
    await flushPromises();
    source.current.event('ADDED', obj('a', '2', 'x'));
    source.current.event('MODIFIED', obj('a', '3', 'y'));
    source.current.event('ADDED', obj('b', '4'));
    source.current.event('DELETED', obj('b', '5'));
    source.current.event('BOOKMARK', { metadata: { resourceVersion: '9' } });
    expect(log).toEqual(['add a', 'update a x->y', 'add b', 'delete b']);
    expect(informer.keys()).toEqual(['ns/a']);
    expect(informer.get('ns/a')?.data).toBe('y');
    expect(informer.resourceVersion).toBe('9');
    await informer.stop();
  });

  it('restarts a failed watch from the last resourceVersion with exponential backoff', async () => {
    const { clock, source, informer } = setup({ backoffInitialMs: 1000 });
    informer.start();
    await flushPromises();
    source.current.event('ADDED', obj('a', '3'));
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = source.watches.length;
      const start = clock.now();
      // the first watch had an event: the backoff starts over; later ones fail at once
      source.current.end(new Error('connection reset'));
      while (source.watches.length === before) await clock.advance(100);
      times.push(clock.now() - start);
      expect(source.current.rv).toBe('3');
    }
    expect(times).toEqual([1000, 2000, 4000, 8000]);
    source.current.event('MODIFIED', obj('a', '4'));
    source.current.end(new Error('connection reset'));
    await clock.advance(1000);
    expect(source.current.rv).toBe('4');
    expect(source.watches).toHaveLength(6);
    expect(source.lists).toBe(1); // no relist needed
    expect(informer.stats.failures).toBe(5);
    await informer.stop();
  });

  it('caps the backoff', async () => {
    const { clock, source, informer } = setup({ backoffInitialMs: 1000, backoffMaxMs: 3000 });
    informer.start();
    await flushPromises();
    for (let i = 0; i < 5; i++) {
      source.current.end(new Error('refused'));
      await clock.advance(3000);
    }
    expect(source.watches).toHaveLength(6);
    await informer.stop();
  });

  it('retries a failing list with backoff and syncs only once it succeeds', async () => {
    const { clock, source, informer } = setup({ backoffInitialMs: 500 });
    source.listResult = new Error('apiserver down');
    informer.start();
    await clock.advance(500 + 1000 + 2000 - 1);
    expect(source.lists).toBe(3);
    expect(informer.hasSynced()).toBe(false);
    source.listResult = { items: [obj('a', '2')], resourceVersion: '2' };
    await clock.advance(1);
    await clock.advance(4000);
    expect(source.lists).toBe(4);
    expect(informer.hasSynced()).toBe(true);
    await informer.stop();
  });

  it('relists on 410 Gone and reconciles the cache against the new list', async () => {
    const { source, informer, log } = setup();
    source.listResult = {
      items: [obj('a', '1', 'x'), obj('b', '1'), obj('c', '1')],
      resourceVersion: '1',
    };
    informer.start();
    await flushPromises();
    log.length = 0;
    source.listResult = {
      items: [obj('a', '8', 'y'), obj('c', '1'), obj('d', '8')],
      resourceVersion: '9',
    };
    source.current.event('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await flushPromises();
    expect(source.lists).toBe(2);
    expect(log).toEqual(['delete b', 'update a x->y', 'add d']);
    expect(source.current.rv).toBe('9');
    // a 410 as the watch's end error relists too
    source.current.end({ statusCode: 410 });
    await flushPromises();
    expect(source.lists).toBe(3);
    await informer.stop();
  });

  it('restarts a watch that goes quiet, and events or bookmarks keep it alive', async () => {
    const { clock, source, informer } = setup({ watchdogMs: 60_000 });
    informer.start();
    await flushPromises();
    await clock.advance(50_000);
    source.current.event('BOOKMARK', { metadata: { resourceVersion: '4' } });
    await clock.advance(50_000);
    expect(source.watches).toHaveLength(1);
    await clock.advance(10_000);
    expect(source.watches).toHaveLength(2);
    expect(source.watches[0]!.aborted).toBe(true);
    expect(source.current.rv).toBe('4');
    expect(informer.stats.watchdogRestarts).toBe(1);
    await informer.stop();
  });

  it('resumes at once after a normal close, but backs off when watches close immediately', async () => {
    const { clock, source, informer } = setup({ backoffInitialMs: 1000 });
    informer.start();
    await flushPromises();
    await clock.advance(30_000);
    source.current.end(); // a server timeout after a long watch
    await flushPromises();
    expect(source.watches).toHaveLength(2);
    source.current.end(); // closed right away
    await flushPromises();
    expect(source.watches).toHaveLength(2);
    await clock.advance(1000);
    expect(source.watches).toHaveLength(3);
    await informer.stop();
  });

  it('replays every cached object to onResync each period', async () => {
    const { clock, source, informer, log } = setup({ resyncPeriodMs: 10_000 });
    source.listResult = { items: [obj('a', '1'), obj('b', '1')], resourceVersion: '1' };
    informer.start();
    await flushPromises();
    log.length = 0;
    await clock.advance(10_000);
    expect(log).toEqual(['resync a', 'resync b']);
    await clock.advance(10_000);
    expect(log).toHaveLength(4);
    await informer.stop();
    await clock.advance(10_000);
    expect(log).toHaveLength(4);
  });

  it('gives a late handler the cached objects, and survives a throwing handler', async () => {
    const { source, informer, log } = setup();
    source.listResult = { items: [obj('a', '1')], resourceVersion: '1' };
    informer.start();
    await flushPromises();
    const late: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => {
        late.push(o.metadata!.name!);
        throw new Error('handler bug');
      },
    });
    source.current.event('ADDED', obj('b', '2'));
    expect(late).toEqual(['a', 'b']);
    expect(log).toEqual(['add a', 'add b']);
    expect(informer.get('ns/b')).toBeDefined();
    await informer.stop();
  });

  it('stop() aborts the watch, ends the loop and releases sync waiters', async () => {
    const { clock, source, informer } = setup();
    source.listResult = new Error('down');
    informer.start();
    const waiting = informer.waitForSync();
    await flushPromises();
    await informer.stop();
    expect(await waiting).toBe(false);
    await clock.advance(120_000);
    expect(source.lists).toBe(1);

    const second = setup();
    second.informer.start();
    await flushPromises();
    await second.informer.stop();
    expect(second.source.current.aborted).toBe(true);
    await second.clock.advance(120_000);
    expect(second.source.watches).toHaveLength(1);
  });

  it('waitForSync(signal) resolves false when the signal aborts', async () => {
    const { informer } = setup();
    const ac = new AbortController();
    const waiting = informer.waitForSync(ac.signal);
    ac.abort();
    expect(await waiting).toBe(false);
  });
});
