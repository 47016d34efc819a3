// Acceptance test of the operator process (operator/src/main.ts) on real parts: etcd,
// kube-apiserver, controller-manager, scheduler and kwok; Redis; the CRDs from crds/*.yaml.
// Media pods are simulated at the contract: each fake pod beats into the NodeRegistry every second
// (as media pods do), realises the assignments the operator writes for it, and reports listeners
// the test sets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import type { AudioRoomStatus } from '../../common/src/crd/audio-room.js';
import type { HostedShard, NodeHeartbeat } from '../../common/src/contract/heartbeat.js';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import { RoutingTable } from '../../common/src/contract/routing-table.js';
import { startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { ManagedProcess } from '../env/managed-process.js';
import { repoRoot } from '../env/paths.js';
import { freePort } from '../env/ports.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { kubectlBin } from '../env/tools.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);
const NS = 'rooms';
const SYSTEM = 'amphi-system';
const LEASE = 'amphi-operator';
const RES = { group: 'amphi.dev', version: 'v1alpha1' } as const;

interface Room {
  metadata: { name: string; namespace: string; finalizers?: string[] };
  status?: AudioRoomStatus;
}

/** A media pod as the operator sees it: heartbeats, and assignments it turns into hosted shards. */
class FakePod {
  readonly listeners = new Map<string, number>(); // "room#shard" → listeners
  draining = false;
  seq = 0;
  readonly startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly region: string,
    readonly zone: string,
    readonly k8sNode: string,
    private readonly registry: NodeRegistry,
    private readonly routing: RoutingTable,
    readonly workers = 2,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.beat(), 1000);
    void this.beat();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One heartbeat now (serialised with the periodic ones); resolves once written. */
  beat(): Promise<void> {
    this.#beating = this.#beating.then(() => this.#beat()).catch(() => undefined);
    return this.#beating;
  }

  async #beat(): Promise<void> {
    const { records } = await this.routing.assignments(this.id);
    const shards: HostedShard[] = records.map((r) => ({
      room: r.room,
      shard: r.shard.id,
      role: r.shard.role,
      worker: r.shard.worker,
      state: 'Ready',
      listeners: this.listeners.get(`${r.room}#${r.shard.id}`) ?? 0,
      speakers: 1,
    }));
    const hb: NodeHeartbeat = {
      node: this.id,
      region: this.region,
      zone: this.zone,
      k8sNode: this.k8sNode,
      announcedAddress: '127.0.0.1',
      signalingUrl: `ws://127.0.0.1/${this.id}`,
      pipeUrl: `http://127.0.0.1/${this.id}`,
      draining: this.draining,
      startedAt: this.startedAt,
      sentAt: Date.now(),
      seq: this.seq++,
      workers: Array.from({ length: this.workers }, (_, index) => {
        const mine = shards.filter((s) => s.worker === index);
        return {
          index,
          alive: true,
          port: 40000 + index,
          consumers: mine.reduce((n, s) => n + s.listeners, 0),
          producers: mine.length,
          routers: mine.length,
          cpuPercent: 1,
        };
      }),
      shards,
    };
    await this.registry.beat(hb);
  }
}

function region(
  name: string,
  regionName: string,
  location: { latitude: number; longitude: number },
) {
  return {
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'MediaRegion',
    metadata: { name, namespace: SYSTEM },
    spec: {
      region: regionName,
      location,
      mediaPod: { image: 'amphi/media-pod:test', workersPerPod: 2, basePort: 40000 },
      addresses: { policy: 'NodeExternalIP' },
      drain: { deadlineSeconds: 60 },
      capacity: {
        listenersPerWorker: 100,
        targetUtilizationPercent: 70,
        highWatermarkPercent: 80,
        lowWatermarkPercent: 30,
      },
      minReplicas: 0,
      maxReplicas: 3,
    },
  };
}

function roomManifest(name: string, regions: string[], listenersPerShard = 10) {
  return {
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'AudioRoom',
    metadata: { name, namespace: NS },
    spec: {
      title: `Room ${name}`,
      regions,
      sharding: { listenersPerShard, maxShards: 5 },
      speakerLimit: 2,
    },
  };
}

describe('operator: AudioRoom placement on a real API server and Redis', () => {
  let kube: KubernetesHandle;
  let redisServer: RedisHandle;
  let redis: Redis;
  let registry: NodeRegistry;
  let routing: RoutingTable;
  let custom: CustomObjectsApi;
  let leases: CoordinationV1Api;
  const pods: FakePod[] = [];
  const operators: ManagedProcess[] = [];
  const figures: Record<string, string> = {};

  const getRoom = async (name: string): Promise<Room> =>
    (await custom.getNamespacedCustomObject({
      ...RES,
      plural: 'audiorooms',
      namespace: NS,
      name,
    })) as Room;
  const createRoom = async (m: ReturnType<typeof roomManifest>): Promise<void> => {
    await custom.createNamespacedCustomObject({
      ...RES,
      plural: 'audiorooms',
      namespace: NS,
      body: m,
    });
  };
  const origins = (r: Room) => (r.status?.shards ?? []).filter((s) => s.role === 'origin');
  const pod = (id: string) => pods.find((p) => p.id === id)!;

  async function startOperator(name: string): Promise<ManagedProcess> {
    const port = await freePort();
    const proc = new ManagedProcess({
      name: `operator-${name}-${port}`,
      command: process.execPath,
      args: ['--import', 'tsx', 'operator/src/main.ts'],
      cwd: repoRoot,
      env: {
        ...process.env,
        KUBECONFIG: kube.kubeconfigPath,
        REDIS_URL: redisServer.url,
        POD_NAME: name,
        AMPHI_LEASE_NAMESPACE: SYSTEM,
        AMPHI_LEASE_NAME: LEASE,
        AMPHI_LEASE_DURATION_MS: '4000',
        AMPHI_LEASE_RENEW_DEADLINE_MS: '3000',
        AMPHI_LEASE_RETRY_PERIOD_MS: '500',
        AMPHI_HEALTH_PORT: String(port),
        AMPHI_MIN_EDGE_AGE_MS: '1500',
        AMPHI_RESYNC_MS: '3000',
        AMPHI_HEARTBEAT_POLL_MS: '250',
        LOG_LEVEL: 'info',
      },
    });
    operators.push(proc);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, {
      what: `operator ${name} /healthz`,
      timeoutMs: 30_000,
      intervalMs: 200,
      abortIf: () => proc.exitReason(),
    });
    return proc;
  }

  async function leaseHolder(): Promise<string> {
    try {
      const lease = await leases.readNamespacedLease({ name: LEASE, namespace: SYSTEM });
      return lease.spec?.holderIdentity ?? '';
    } catch {
      return '';
    }
  }

  async function waitRoom(
    name: string,
    ok: (r: Room) => boolean,
    what: string,
    timeoutMs = 15_000,
  ) {
    return waitFor(
      async () => {
        const r = await getRoom(name);
        return ok(r) ? r : undefined;
      },
      {
        what: `${name}: ${what}`,
        timeoutMs,
        intervalMs: 50,
        abortIf: () =>
          operators.find((o) => !o.running && !o.exitReason()?.includes('SIGKILL'))?.exitReason(),
      },
    );
  }

  beforeAll(async () => {
    [kube, redisServer] = await Promise.all([startKubernetes(), startRedis()]);
    redis = new Redis(redisServer.url);
    registry = new NodeRegistry(redis);
    routing = new RoutingTable(redis);
    custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    leases = kube.kubeConfig.makeApiClient(CoordinationV1Api);
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    for (const name of [NS, SYSTEM]) await core.createNamespace({ body: { metadata: { name } } });
    const objects = KubernetesObjectApi.makeApiClient(kube.kubeConfig);
    for (const file of readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(repoRoot, 'crds', file), 'utf8'))) {
        await objects.create(doc.toJS() as KubernetesObject);
      }
    }
    await waitFor(
      () =>
        custom.createNamespacedCustomObject({
          ...RES,
          plural: 'mediaregions',
          namespace: SYSTEM,
          body: region('eu-west', 'eu-west', { latitude: 53, longitude: -6 }),
        }),
      { what: 'the MediaRegion CRD to serve', timeoutMs: 30_000, intervalMs: 200 },
    );
    for (const r of [
      region('us-east', 'us-east', { latitude: 39, longitude: -77 }),
      region('ap-south', 'ap-south', { latitude: 19, longitude: 72 }),
    ]) {
      await custom.createNamespacedCustomObject({
        ...RES,
        plural: 'mediaregions',
        namespace: SYSTEM,
        body: r,
      });
    }
    // Two pods per region, one per zone; ap-south has a MediaRegion but no pods.
    for (const [id, reg, zone, node] of [
      ['eu-west-0', 'eu-west', 'eu-west-a', 'kwok-eu-west-a'],
      ['eu-west-1', 'eu-west', 'eu-west-b', 'kwok-eu-west-b'],
      ['us-east-0', 'us-east', 'us-east-a', 'kwok-us-east-a'],
      ['us-east-1', 'us-east', 'us-east-b', 'kwok-us-east-b'],
    ] as const) {
      const p = new FakePod(id, reg, zone, node, registry, routing);
      pods.push(p);
      p.start();
    }
    await startOperator('op-a');
    await waitFor(async () => (await leaseHolder()) === 'op-a', {
      what: 'op-a to lead',
      timeoutMs: 20_000,
    });
  }, 300_000);

  afterAll(async () => {
    for (const p of pods) p.stop();
    await Promise.all(operators.map((o) => o.stop(10_000)));
    redis?.disconnect();
    await redisServer?.stop();
    await kube?.stop();
    console.info(
      `operator figures:\n${Object.entries(figures)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
  }, 120_000);

  it('places a room on a live pod of its preferred region: status, printer columns, route, assignment', async () => {
    const t0 = Date.now();
    await createRoom(roomManifest('alpha', ['us-east', 'eu-west']));
    const scheduled = await waitRoom('alpha', (r) => origins(r).length === 1, 'an origin');
    figures['create → origin in status'] = `${Date.now() - t0} ms`;
    const origin = origins(scheduled)[0]!;
    expect(origin).toMatchObject({ role: 'origin', region: 'us-east', id: 'o1' });
    expect(['us-east-0', 'us-east-1']).toContain(origin.node);
    expect(scheduled.metadata.finalizers).toContain('amphi.dev/room-shards');

    // The fake pod realises the assignment and reports it Ready: the room goes Live.
    const live = await waitRoom('alpha', (r) => r.status?.phase === 'Live', 'phase Live');
    expect(live.status).toMatchObject({
      region: 'us-east',
      shardCount: 1,
      listeners: 0,
      speakers: 1,
      observedGeneration: 1,
    });
    expect(live.status?.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({
      status: 'True',
      reason: 'Placed',
    });

    const { stdout } = await run(kubectlBin(), [
      '--kubeconfig',
      kube.kubeconfigPath,
      'get',
      'audiorooms',
      '-n',
      NS,
      'alpha',
    ]);
    const [header, row] = stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'PHASE', 'REGION', 'SHARDS', 'LISTENERS', 'AGE']);
    expect(row!.slice(0, 5)).toEqual(['alpha', 'Live', 'us-east', '1', '0']);

    // The route follows the status write (same task, after it).
    const route = await waitFor(() => routing.getRoute(`${NS}/alpha`), {
      what: 'the route of alpha',
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    expect(route).toMatchObject({
      room: `${NS}/alpha`,
      region: 'us-east',
      speakerLimit: 2,
      listenersPerShard: 10,
    });
    expect(route?.shards.map((s) => s.id)).toEqual(['o1']);
    const mine = await waitFor(
      async () => {
        const { records } = await routing.assignments(origin.node);
        const found = records.filter((r) => r.room === `${NS}/alpha`);
        return found.length > 0 ? found : undefined;
      },
      { what: 'the assignment of alpha', timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(mine.map((r) => r.shard.id)).toEqual(['o1']);
  });

  it('adds an edge on another worker when listeners cross the high watermark (latency printed), retires it when they fall', async () => {
    const room = await getRoom('alpha');
    const origin = origins(room)[0]!;
    const p = pod(origin.node);
    // listenersPerShard 10 at 80 %: above 8 listeners on one shard the room needs an edge.
    p.listeners.set(`${NS}/alpha#o1`, 12);
    const t0 = Date.now();
    await p.beat();
    const grown = await waitRoom(
      'alpha',
      (r) => (r.status?.shards ?? []).some((s) => s.role === 'edge'),
      'an edge',
      5_000,
    );
    const latency = Date.now() - t0;
    // A figure, not an assertion: latency claims live in bench/operator.
    figures['heartbeat over high watermark → edge in status'] = `${latency} ms`;
    const edge = grown.status!.shards!.find((s) => s.role === 'edge')!;
    expect(`${edge.node}/${edge.worker}`).not.toBe(`${origin.node}/${origin.worker}`);
    expect(edge.region).toBe('us-east');
    // The status goes out before the route and assignments (one write task, in that order).
    const assigned = await waitFor(
      async () =>
        (await routing.assignments(edge.node)).records.find((r) => r.shard.id === edge.id),
      { what: `the assignment of edge ${edge.id}`, timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(assigned).toMatchObject({
      room: `${NS}/alpha`,
      origin: { shard: 'o1', node: origin.node, worker: origin.worker },
      shard: { from: 'o1' },
    });
    await waitFor(async () => (await routing.getRoute(`${NS}/alpha`))?.shards.length === 2, {
      what: 'route with 2 shards',
      timeoutMs: 5000,
    });

    // Counts fall: the idle edge goes once it is older than minEdgeAgeMs (1.5 s here).
    p.listeners.set(`${NS}/alpha#o1`, 2);
    await p.beat();
    await waitRoom(
      'alpha',
      (r) => r.status?.shardCount === 1 && r.status.listeners === 2,
      'edge retired',
      10_000,
    );
    await waitFor(
      async () =>
        !(await routing.assignments(edge.node)).records.some((r) => r.shard.id === edge.id),
      { what: 'the edge unassigned', timeoutMs: 5000 },
    );
  });

  it('gives a draining pod nothing new', async () => {
    const draining = pod('eu-west-0');
    draining.draining = true;
    await draining.beat();
    await new Promise((r) => setTimeout(r, 600)); // the operator polls every 250 ms
    const t0 = Date.now();
    for (const name of ['d1', 'd2', 'd3']) await createRoom(roomManifest(name, ['eu-west']));
    await waitRoom('d3', (x) => origins(x).length === 1, 'an origin');
    figures['3 rooms created → all 3 origins in status'] = `${Date.now() - t0} ms`;
    for (const name of ['d1', 'd2', 'd3']) {
      const r = await waitRoom(name, (x) => origins(x).length === 1, 'an origin');
      expect(origins(r)[0]!.node).toBe('eu-west-1');
    }
    draining.draining = false;
    await draining.beat();
  });

  it('reports Scheduled=False with the reason for a region without capacity, without a crash loop', async () => {
    await createRoom(roomManifest('nocap', ['ap-south']));
    const r = await waitRoom(
      'nocap',
      (x) => x.status?.conditions?.some((c) => c.type === 'Scheduled') ?? false,
      'a Scheduled condition',
    );
    const cond = r.status!.conditions!.find((c) => c.type === 'Scheduled')!;
    expect(cond).toMatchObject({ status: 'False', reason: 'NoLiveNodes' });
    expect(cond.message).toContain('ap-south');
    expect(r.status?.phase).toBe('Pending');
    await new Promise((res) => setTimeout(res, 2000));
    const later = await getRoom('nocap');
    expect(later.status?.conditions?.find((c) => c.type === 'Scheduled')?.lastTransitionTime).toBe(
      cond.lastTransitionTime,
    );
    expect(operators[0]!.running).toBe(true);
  });

  it('rebuilds the routing table from status after a Redis FLUSHALL', async () => {
    const before = await getRoom('d1');
    const origin = origins(before)[0]!;
    await redis.flushall();
    const t0 = Date.now();
    await waitFor(
      async () => {
        const route = await routing.getRoute(`${NS}/d1`);
        const { records } = await routing.assignments(origin.node);
        return route?.shards[0]?.node === origin.node && records.some((r) => r.room === `${NS}/d1`);
      },
      { what: 'route and assignment of d1 back', timeoutMs: 10_000, intervalMs: 50 },
    );
    figures['FLUSHALL → route and assignment back'] = `${Date.now() - t0} ms`;
    // Same placement: nothing moved.
    expect(origins(await getRoom('d1'))[0]).toMatchObject({
      id: origin.id,
      node: origin.node,
      worker: origin.worker,
    });
  });

  it('deleting a room removes its route and assignments, then the CR goes away', async () => {
    const r = await getRoom('d2');
    const origin = origins(r)[0]!;
    await run(kubectlBin(), [
      '--kubeconfig',
      kube.kubeconfigPath,
      'delete',
      'audioroom',
      '-n',
      NS,
      'd2',
      '--wait=false',
    ]);
    await waitFor(
      async () => {
        try {
          await getRoom('d2');
          return false;
        } catch (e) {
          return (e as { code?: number }).code === 404;
        }
      },
      { what: 'd2 gone', timeoutMs: 10_000 },
    );
    expect(await routing.getRoute(`${NS}/d2`)).toBeUndefined();
    expect(
      (await routing.assignments(origin.node)).records.some((x) => x.room === `${NS}/d2`),
    ).toBe(false);
  });

  it('two operators: one leads; SIGKILL of the leader hands over within the lease, with no duplicate placement', async () => {
    await startOperator('op-b');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await leaseHolder()).toBe('op-a');
    for (const name of ['ha1', 'ha2']) await createRoom(roomManifest(name, ['eu-west']));
    const placed = new Map<string, string>();
    for (const name of ['alpha', 'd1', 'd3', 'ha1', 'ha2']) {
      const r = await waitRoom(name, (x) => origins(x).length === 1, 'an origin');
      placed.set(name, `${origins(r)[0]!.node}/${origins(r)[0]!.worker}`);
    }
    const leader = operators[0]!;
    const killed = Date.now();
    await leader.kill();
    await waitFor(async () => (await leaseHolder()) === 'op-b', {
      what: 'op-b to take the lease',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    const takeover = Date.now() - killed;
    figures['SIGKILL of leader → lease taken by standby'] = `${takeover} ms (lease 4 s)`;
    expect(takeover).toBeLessThan(4000 + 1500);
    await createRoom(roomManifest('ha3', ['eu-west']));
    await waitRoom('ha3', (x) => origins(x).length === 1, 'an origin from the new leader');
    figures['SIGKILL of leader → new room scheduled by standby'] = `${Date.now() - killed} ms`;
    await new Promise((r) => setTimeout(r, 1500));
    for (const [name, where] of placed) {
      const r = await getRoom(name);
      expect(origins(r)).toHaveLength(1);
      expect(`${origins(r)[0]!.node}/${origins(r)[0]!.worker}`).toBe(where);
    }
  });

  it('SIGTERM: the leader stops its controllers, releases the lease and exits 0', async () => {
    const leader = operators[1]!;
    expect(await leaseHolder()).toBe('op-b');
    await leader.stop(10_000);
    expect(leader.exitReason()).toContain('exited with code 0');
    expect(leader.logTail(40)).toContain('released leader lease');
    expect(await leaseHolder()).toBe('');
  });
});
