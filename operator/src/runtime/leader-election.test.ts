import { describe, expect, it } from '@jest/globals';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FakeClock, flushPromises } from './clock.js';
import { LeaderElector, type LeaderElectionOptions, type LeaseApi } from './leader-election.js';

class ApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

/** An in-memory Lease endpoint with the apiserver's optimistic concurrency and JSON round trip. */
class FakeLeaseApi implements LeaseApi {
  lease: V1Lease | undefined;
  bodies: string[] = [];
  failing = false;
  hanging = false;
  #rv = 0;

  async readNamespacedLease(_p: { name: string; namespace: string }): Promise<V1Lease> {
    if (this.hanging) return new Promise(() => {});
    if (this.failing) throw new ApiError(503);
    if (!this.lease) throw new ApiError(404);
    return structuredClone(this.lease);
  }

  async createNamespacedLease(p: { namespace: string; body: V1Lease }): Promise<V1Lease> {
    if (this.failing) throw new ApiError(503);
    if (this.lease) throw new ApiError(409);
    return this.#store(p.body);
  }

  async replaceNamespacedLease(p: { name: string; body: V1Lease }): Promise<V1Lease> {
    if (this.failing) throw new ApiError(503);
    if (p.body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw new ApiError(409);
    }
    return this.#store(p.body);
  }

  /** Another client writing the lease directly. */
  setHolder(holder: string, clock: FakeClock): void {
    const base = this.lease ?? { metadata: { name: 'op', namespace: 'ns' } };
    this.#store({
      ...base,
      spec: {
        ...base.spec,
        holderIdentity: holder,
        leaseDurationSeconds: 15,
        renewTime: new V1MicroTime(clock.now()),
      },
    });
  }

  #store(body: V1Lease): V1Lease {
    const text = JSON.stringify(body); // what client-node would send
    this.bodies.push(text);
    const stored = JSON.parse(text) as V1Lease;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.#rv) };
    this.lease = stored;
    return structuredClone(stored);
  }
}

interface Probe {
  elector: LeaderElector;
  events: string[];
  signal: () => AbortSignal | undefined;
  done: Promise<void>;
}

function elector(
  api: FakeLeaseApi,
  clock: FakeClock,
  identity: string,
  extra: Partial<LeaderElectionOptions> = {},
): Probe {
  const events: string[] = [];
  let signal: AbortSignal | undefined;
  const e = new LeaderElector({
    api,
    clock,
    name: 'op',
    namespace: 'ns',
    identity,
    random: () => 0,
    logger: pino({ level: 'silent' }),
    onStartedLeading: (s) => {
      signal = s;
      events.push('started');
    },
    onStoppedLeading: (reason) => events.push(`stopped:${reason}`),
    onNewLeader: (id) => events.push(`leader:${id}`),
    ...extra,
  });
  return { elector: e, events, signal: () => signal, done: e.run() };
}

describe('LeaderElector', () => {
  it('creates a missing lease, leads, and writes MicroTime with six fractional digits', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const registry = new Registry();
    const a = elector(api, clock, 'a', { registry });
    await flushPromises();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader:a', 'started']);
    expect(api.lease?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(JSON.parse(api.bodies[0]!).spec.renewTime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    );
    const status = await registry.getSingleMetric('leader_election_master_status')!.get();
    expect(status.values).toEqual([expect.objectContaining({ labels: { name: 'op' }, value: 1 })]);
    await a.elector.stop();
  });

  it('renews every retry period', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const a = elector(api, clock, 'a');
    await flushPromises();
    const first = api.lease?.spec?.renewTime;
    await clock.advance(2000);
    expect(api.lease?.spec?.renewTime).not.toBe(first);
    expect(new Date(String(api.lease?.spec?.renewTime)).getTime()).toBe(clock.now());
    expect(api.lease?.spec?.acquireTime).toBe(JSON.parse(api.bodies[0]!).spec.acquireTime);
    await a.elector.stop();
  });

  it('waits while another holder renews, and takes over a lease left to expire', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    api.setHolder('other', clock);
    const a = elector(api, clock, 'a');
    await flushPromises();
    expect(a.events).toEqual(['leader:other']);
    for (let i = 0; i < 10; i++) {
      await clock.advance(5000);
      api.setHolder('other', clock); // keeps renewing
    }
    expect(a.elector.isLeader()).toBe(false);
    // other stops renewing: a waits a full lease duration (by its own clock), then takes over
    await clock.advance(14_000);
    expect(a.elector.isLeader()).toBe(false);
    await clock.advance(4000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader:other', 'leader:a', 'started']);
    expect(api.lease?.spec?.leaseTransitions).toBe(1);
    await a.elector.stop();
  });

  it('lets only one of two candidates lead; release on stop hands over at once', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const a = elector(api, clock, 'a');
    await flushPromises();
    const b = elector(api, clock, 'b');
    await clock.advance(30_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    await a.elector.stop();
    await a.done;
    expect(a.events).toEqual(['leader:a', 'started', 'stopped:stopped']);
    expect(a.signal()?.aborted).toBe(true);
    expect(api.lease?.spec?.holderIdentity).toBe('');
    await clock.advance(2000); // one retry period, not a lease duration
    expect(b.elector.isLeader()).toBe(true);
    expect(api.lease?.spec?.leaseTransitions).toBe(1);
    await b.elector.stop();
  });

  it('gives up leadership when renewals fail for the renew deadline', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const registry = new Registry();
    const a = elector(api, clock, 'a', { registry });
    await flushPromises();
    api.failing = true;
    await clock.advance(2000 + 9000);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advance(1000);
    await a.done;
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signal()?.aborted).toBe(true);
    expect(a.events.at(-1)).toBe('stopped:lost');
    const status = await registry.getSingleMetric('leader_election_master_status')!.get();
    expect(status.values[0]?.value).toBe(0);
  });

  it('counts a renewal that hangs past the deadline as a failure', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const a = elector(api, clock, 'a');
    await flushPromises();
    api.hanging = true;
    await clock.advance(2000 + 10_000);
    await a.done;
    expect(a.events.at(-1)).toBe('stopped:lost');
  });

  it('does not lead when another writer wins the optimistic update (409)', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    api.setHolder('other', clock);
    const a = elector(api, clock, 'a');
    await flushPromises();
    const realReplace = api.replaceNamespacedLease.bind(api);
    let raced = false;
    api.replaceNamespacedLease = async (p) => {
      if (!raced) {
        raced = true;
        api.setHolder('other', clock); // other renews between our read and our write
      }
      return realReplace(p);
    };
    await clock.advance(17_000); // other looked expired to a, which tried to take over
    expect(raced).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    expect(api.lease?.spec?.holderIdentity).toBe('other');
    await a.elector.stop();
    expect(a.events).not.toContain('started');
  });

  it('keeps renewing while onStartedLeading drains, and releases afterwards', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    let finishDrain!: () => void;
    const a = elector(api, clock, 'a', {
      onStartedLeading: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => (finishDrain = resolve));
        }),
    });
    await flushPromises();
    const stopping = a.elector.stop();
    await clock.advance(20_000); // longer than a lease: must keep renewing meanwhile
    expect(api.lease?.spec?.holderIdentity).toBe('a');
    expect(new Date(String(api.lease?.spec?.renewTime)).getTime()).toBeGreaterThan(
      clock.now() - 3000,
    );
    finishDrain();
    await clock.advance(2000);
    await stopping;
    expect(api.lease?.spec?.holderIdentity).toBe('');
    expect(api.lease?.spec?.leaseDurationSeconds).toBe(1);
  });

  it('stop() while campaigning ends without leading or calling onStoppedLeading', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    api.setHolder('other', clock);
    const a = elector(api, clock, 'a');
    await clock.advance(3000);
    await a.elector.stop();
    expect(a.events).toEqual(['leader:other']);
  });

  it('rejects a renew deadline not shorter than the lease', () => {
    expect(
      () =>
        new LeaderElector({
          api: new FakeLeaseApi(),
          name: 'op',
          namespace: 'ns',
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          onStartedLeading: () => {},
        }),
    ).toThrow(/renewDeadlineMs/);
  });
});
