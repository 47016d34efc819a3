import { describe, expect, it } from '@jest/globals';
import type { EventsV1Event } from '@kubernetes/client-node';
import { pino } from 'pino';
import { FakeClock } from './clock.js';
import { EventRecorder, type EventsApi } from './events.js';
import type { KubeObject } from './keys.js';

class ApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

/** Keeps events as the apiserver would see them (JSON), and the raw calls. */
class FakeEventsApi implements EventsApi {
  events = new Map<string, Record<string, unknown>>();
  calls: string[] = [];
  failCreates = 0;

  async createNamespacedEvent(p: {
    namespace: string;
    body: EventsV1Event;
  }): Promise<EventsV1Event> {
    const name = p.body.metadata?.name ?? '';
    this.calls.push(`create ${name}`);
    if (this.failCreates-- > 0) throw new ApiError(500);
    const json = JSON.parse(JSON.stringify(p.body)) as Record<string, unknown>;
    this.events.set(`${p.namespace}/${name}`, json);
    return p.body;
  }

  async patchNamespacedEvent(p: {
    name: string;
    namespace: string;
    body: unknown;
  }): Promise<EventsV1Event> {
    this.calls.push(`patch ${p.name}`);
    const existing = this.events.get(`${p.namespace}/${p.name}`);
    if (!existing) throw new ApiError(404);
    Object.assign(existing, JSON.parse(JSON.stringify(p.body)));
    return existing as unknown as EventsV1Event;
  }
}

const room: KubeObject = {
  apiVersion: 'amphi.dev/v1alpha1',
  kind: 'Room',
  metadata: { namespace: 'ns', name: 'lobby', uid: 'u1', resourceVersion: '3' },
};

function setup(extra: { cacheSize?: number } = {}) {
  const api = new FakeEventsApi();
  const clock = new FakeClock();
  const recorder = new EventRecorder({
    api,
    clock,
    reportingController: 'amphi.dev/operator',
    reportingInstance: 'operator-0',
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  return { api, clock, recorder };
}

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event with every required field', async () => {
    const { api, recorder } = setup();
    await recorder.warning(room, 'PlacementFailed', 'Placing', 'no media pod in eu-west');
    expect(api.events.size).toBe(1);
    const [event] = [...api.events.values()];
    expect(event).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'ns' },
      reportingController: 'amphi.dev/operator',
      reportingInstance: 'operator-0',
      action: 'Placing',
      reason: 'PlacementFailed',
      type: 'Warning',
      note: 'no media pod in eu-west',
      regarding: {
        apiVersion: 'amphi.dev/v1alpha1',
        kind: 'Room',
        namespace: 'ns',
        name: 'lobby',
        uid: 'u1',
        resourceVersion: '3',
      },
    });
    expect(event!.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect((event!.metadata as { name: string }).name).toMatch(/^lobby\.[0-9a-f]+$/);
  });

  it('folds repeats into one Event series instead of creating new Events', async () => {
    const { api, clock, recorder } = setup();
    await recorder.normal(room, 'Scaled', 'Scaling', 'to 3');
    await clock.advance(1000);
    await recorder.normal(room, 'Scaled', 'Scaling', 'to 3');
    await clock.advance(1000);
    await recorder.normal(room, 'Scaled', 'Scaling', 'to 3');
    expect(api.events.size).toBe(1);
    const [event] = [...api.events.values()];
    expect(event!.series).toEqual({
      count: 3,
      lastObservedTime: new Date(clock.now()).toISOString().replace('Z', '000Z'),
    });
    expect(api.calls.map((c) => c.split(' ')[0])).toEqual(['create', 'patch', 'patch']);
  });

  it('keeps different notes, reasons or objects apart', async () => {
    const { api, recorder } = setup();
    await recorder.normal(room, 'Scaled', 'Scaling', 'to 3');
    await recorder.normal(room, 'Scaled', 'Scaling', 'to 4');
    await recorder.normal(room, 'Placed', 'Placing');
    await recorder.normal(
      { ...room, metadata: { ...room.metadata, name: 'other' } },
      'Placed',
      'Placing',
    );
    expect(api.events.size).toBe(4);
  });

  it('coalesces a burst of repeats into as few patches as it can', async () => {
    const { api, recorder } = setup();
    const writes = [1, 2, 3, 4, 5].map(() => recorder.normal(room, 'Synced', 'Sync'));
    await Promise.all(writes);
    expect(api.calls.filter((c) => c.startsWith('create'))).toHaveLength(1);
    const [event] = [...api.events.values()];
    expect((event!.series as { count: number }).count).toBe(5);
    expect(api.calls.length).toBeLessThan(5);
  });

  it('starts a new Event after the series window or when the old one expired', async () => {
    const { api, clock, recorder } = setup();
    await recorder.normal(room, 'Synced', 'Sync');
    await clock.advance(7 * 60_000);
    await recorder.normal(room, 'Synced', 'Sync');
    expect(api.events.size).toBe(2);

    api.events.clear(); // TTL expiry
    await recorder.normal(room, 'Synced', 'Sync');
    expect(api.events.size).toBe(1);
    expect([...api.events.values()][0]!.series).toBeUndefined();
  });

  it('forgets the least recently used series beyond the cache size', async () => {
    const { api, recorder } = setup({ cacheSize: 2 });
    await recorder.normal(room, 'A', 'X');
    await recorder.normal(room, 'B', 'X');
    await recorder.normal(room, 'A', 'X'); // A is now the most recent
    await recorder.normal(room, 'C', 'X'); // evicts B
    await recorder.normal(room, 'A', 'X');
    await recorder.normal(room, 'B', 'X');
    expect(api.calls.map((c) => c.split(' ')[0])).toEqual([
      'create',
      'create',
      'patch',
      'create',
      'patch',
      'create',
    ]);
  });

  it('never throws when the API fails, and recreates an Event whose create failed', async () => {
    const { api, recorder } = setup();
    api.failCreates = 1;
    await expect(recorder.normal(room, 'A', 'X')).resolves.toBeUndefined();
    expect(api.events.size).toBe(0);
    await recorder.normal(room, 'A', 'X');
    expect(api.events.size).toBe(1);
  });

  it('puts events about cluster-scoped objects in the default namespace, truncating long notes', async () => {
    const { api, recorder } = setup();
    await recorder.normal(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } },
      'A',
      'X',
      'é'.repeat(2000),
    );
    const [event] = [...api.events.values()];
    expect((event!.metadata as { namespace: string }).namespace).toBe('default');
    expect(Buffer.byteLength(event!.note as string)).toBeLessThanOrEqual(1024);
  });
});
