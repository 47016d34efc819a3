// End to end on the full test bed: etcd, kube-apiserver, controller-manager, scheduler and kwok;
// Redis; the operator process; two media-pod processes on loopback registered in the MediaRegion's
// region; the control API. A MediaRegion is applied with kubectl and a room is created through the
// API (with a small listenersPerShard); a host speaks a tone over WebRTC, listeners joining through
// the API decode it, enough listeners push the origin past its high watermark, the operator adds an
// edge shard and listeners joining afterwards land on that edge and still hear the speaker.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import type { AudioRoomStatus } from '../../common/src/crd/audio-room.js';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import { RoutingTable } from '../../common/src/contract/routing-table.js';
import { KubeAudioRooms } from '../../control-api/src/rooms/audio-rooms.js';
import {
  API_KEY,
  JOIN_SECRET,
  call,
  startApi,
  testEnv,
  userToken,
  type TestApi,
} from '../../control-api/test/harness.js';
import { startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { ManagedProcess } from '../env/managed-process.js';
import { MediaClient } from '../env/media-client.js';
import { useProjectMediasoupWorker } from '../env/mediasoup.js';
import { repoRoot } from '../env/paths.js';
import { freePort, freePorts } from '../env/ports.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { kubectlBin } from '../env/tools.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);
const NS = 'rooms';
const SYSTEM = 'amphi-system';
const REGION = 'eu-west';
const ROOM_ID = 'e2e-hall';
const ROOM = `${NS}/${ROOM_ID}`;
const ISSUER = 'amphi-control';
const RES = { group: 'amphi.dev', version: 'v1alpha1' } as const;
const LOUD = 50; // 0.5 s of decoded 10 ms frames with energy
const PER_SHARD = 10; // high watermark 80 % → more than 8 listeners on a shard needs an edge

interface JoinAnswer {
  role: string;
  shard: string;
  node: string;
  signalingUrl: string;
  token: string;
}

function mediaRegion() {
  return {
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'MediaRegion',
    metadata: { name: REGION, namespace: SYSTEM },
    spec: {
      region: REGION,
      location: { latitude: 53, longitude: -6 },
      mediaPod: { image: 'amphi/media-pod:test', workersPerPod: 1, basePort: 40000 },
      addresses: { policy: 'NodeExternalIP' },
      drain: { deadlineSeconds: 60 },
      capacity: {
        listenersPerWorker: 20,
        targetUtilizationPercent: 70,
        highWatermarkPercent: 80,
        lowWatermarkPercent: 30,
      },
      minReplicas: 0,
      maxReplicas: 2,
    },
  };
}

describe('full test bed: kubectl → operator → media pods → control API → WebRTC', () => {
  let kube: KubernetesHandle;
  let redisServer: RedisHandle;
  let redis: Redis;
  let routing: RoutingTable;
  let registry: NodeRegistry;
  let custom: CustomObjectsApi;
  let api: TestApi;
  const procs: ManagedProcess[] = [];
  const clients: MediaClient[] = [];
  const figures: Record<string, string> = {};
  let dir: string | undefined;
  const abortIf = (): string | undefined =>
    procs.find((p) => !p.running)?.exitReason() ?? kube?.failure();

  const kubectl = (...args: string[]) =>
    run(kubectlBin(), ['--kubeconfig', kube.kubeconfigPath, ...args], { cwd: repoRoot });

  const roomStatus = async (): Promise<AudioRoomStatus | undefined> =>
    (
      (await custom.getNamespacedCustomObject({
        ...RES,
        plural: 'audiorooms',
        namespace: NS,
        name: ROOM_ID,
      })) as { status?: AudioRoomStatus }
    ).status;

  async function joinViaApi(user: string): Promise<JoinAnswer> {
    const auth = await userToken(user, { name: user });
    return waitFor(
      async () => {
        const answer = await call<JoinAnswer>(api.url, 'POST', `/v1/rooms/${ROOM_ID}/join`, {
          auth,
          body: {},
        });
        if (answer.status === 200) return answer.body;
        if (answer.status === 503 || answer.status === 409) return undefined; // retry-after
        throw new Error(`join ${user}: ${answer.status} ${JSON.stringify(answer.body)}`);
      },
      { what: `${user} to join through the API`, timeoutMs: 30_000, intervalMs: 200, abortIf },
    );
  }

  async function connect(answer: JoinAnswer): Promise<MediaClient> {
    const client = await MediaClient.connect(answer.signalingUrl);
    clients.push(client);
    await client.join(answer.token);
    return client;
  }

  /** Joins through the API, listens on the media pod; resolves with the client and the answer. */
  async function listener(user: string): Promise<{ client: MediaClient; answer: JoinAnswer }> {
    const answer = await joinViaApi(user);
    const client = await connect(answer);
    await client.listen();
    return { client, answer };
  }

  async function hears(client: MediaClient, what: string, since = 0): Promise<void> {
    await waitFor(() => client.loudFramesSince(since) >= LOUD, {
      what: `${what}: ${LOUD} decoded frames with energy`,
      timeoutMs: 45_000,
      intervalMs: 100,
      abortIf,
    });
  }

  beforeAll(async () => {
    const workerBin = useProjectMediasoupWorker();
    [kube, redisServer] = await Promise.all([startKubernetes(), startRedis()]);
    redis = new Redis(redisServer.url);
    routing = new RoutingTable(redis);
    registry = new NodeRegistry(redis);
    custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    for (const name of [NS, SYSTEM]) await core.createNamespace({ body: { metadata: { name } } });
    await kubectl('apply', '--server-side', '-f', 'crds/');
    dir = mkdtempSync(join(tmpdir(), 'amphi-e2e-'));
    const regionFile = join(dir, 'region.yaml');
    writeFileSync(regionFile, stringify(mediaRegion()));
    await waitFor(() => kubectl('apply', '-f', regionFile), {
      what: 'kubectl apply of the MediaRegion (CRD serving)',
      timeoutMs: 60_000,
      intervalMs: 500,
      abortIf: kube.failure,
    });

    // Two media pods of the region, one worker each: the origin on one, the edge on the other.
    const workerBase = await freePorts(2);
    const pods = await Promise.all(
      ['media-eu-0', 'media-eu-1'].map(async (node, i) => ({
        node,
        zone: `${REGION}-${i === 0 ? 'a' : 'b'}`,
        base: workerBase + i,
        sig: await freePort(),
        pipe: await freePort(),
      })),
    );
    for (const p of pods) {
      procs.push(
        new ManagedProcess({
          name: `e2e-${p.node}`,
          command: process.execPath,
          args: ['--import', 'tsx', 'media-pod/src/main.ts'],
          cwd: repoRoot,
          env: {
            ...process.env,
            MEDIASOUP_WORKER_BIN: workerBin,
            MEDIA_NODE_ID: p.node,
            MEDIA_REGION: REGION,
            MEDIA_ZONE: p.zone,
            MEDIA_WORKERS: '1',
            MEDIA_BASE_PORT: String(p.base),
            MEDIA_LISTEN_IP: '127.0.0.1',
            MEDIA_SIGNALING_PORT: String(p.sig),
            MEDIA_PIPE_PORT: String(p.pipe),
            REDIS_URL: redisServer.url,
            JOIN_TOKEN_SECRET: JOIN_SECRET,
            JOIN_TOKEN_ISSUER: ISSUER,
            MEDIA_HEARTBEAT_INTERVAL_MS: '1000',
            MEDIA_COUNTS_INTERVAL_MS: '500',
            MEDIA_RESYNC_INTERVAL_MS: '1000',
            MEDIA_DRAIN_DEADLINE_MS: '60000',
            LOG_LEVEL: 'info',
          },
        }),
      );
    }

    const health = await freePort();
    procs.push(
      new ManagedProcess({
        name: 'e2e-operator',
        command: process.execPath,
        args: ['--import', 'tsx', 'operator/src/main.ts'],
        cwd: repoRoot,
        env: {
          ...process.env,
          KUBECONFIG: kube.kubeconfigPath,
          REDIS_URL: redisServer.url,
          POD_NAME: 'op-e2e',
          AMPHI_LEASE_NAMESPACE: SYSTEM,
          AMPHI_LEASE_NAME: 'amphi-operator',
          AMPHI_LEASE_DURATION_MS: '4000',
          AMPHI_LEASE_RENEW_DEADLINE_MS: '3000',
          AMPHI_LEASE_RETRY_PERIOD_MS: '500',
          AMPHI_HEALTH_PORT: String(health),
          AMPHI_MIN_EDGE_AGE_MS: '1500',
          AMPHI_RESYNC_MS: '3000',
          AMPHI_HEARTBEAT_POLL_MS: '250',
          LOG_LEVEL: 'info',
        },
      }),
    );
    api = await startApi(
      testEnv(redisServer.url, { JOIN_TOKEN_ISSUER: ISSUER }),
      new KubeAudioRooms(kube.kubeConfig, NS),
    );
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${health}/healthz`).catch(() => undefined))?.ok,
      { what: 'operator /healthz', timeoutMs: 60_000, intervalMs: 200, abortIf },
    );
    await waitFor(
      async () => {
        const live = (await registry.live()).nodes.filter((n) => n.region === REGION);
        return live.length === 2 && live.every((n) => n.workers.every((w) => w.alive));
      },
      { what: 'both media pods heartbeating', timeoutMs: 90_000, intervalMs: 250, abortIf },
    );
  }, 300_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await api?.close();
    await Promise.all(procs.map((p) => p.stop(10_000)));
    redis?.disconnect();
    await redisServer?.stop();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.info(
      `full-bed figures:\n${Object.entries(figures)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
  }, 120_000);

  it('a room goes Live, is heard, grows an edge past its threshold, and new listeners hear it there', async () => {
    // The room, through the control API (the platform key names its host).
    const t0 = Date.now();
    const created = await call(api.url, 'POST', '/v1/rooms', {
      auth: { apiKey: API_KEY },
      body: {
        name: ROOM_ID,
        title: 'End to end',
        host: 'host-1',
        regions: [REGION],
        listenersPerShard: PER_SHARD,
        speakerLimit: 2,
      },
    });
    expect(created.status).toBe(201);
    const live = await waitFor(
      async () => {
        const s = await roomStatus();
        return s?.phase === 'Live' ? s : undefined;
      },
      { what: 'the AudioRoom Live', timeoutMs: 45_000, intervalMs: 100, abortIf },
    );
    figures['create → room Live'] = `${Date.now() - t0} ms`;
    const origin = live.shards!.find((s) => s.role === 'origin')!;
    expect(origin.region).toBe(REGION);
    expect(live.shardCount).toBe(1);

    // The host speaks a tone on the origin.
    const hostJoin = await joinViaApi('host-1');
    expect(hostJoin).toMatchObject({ role: 'host', shard: origin.id, node: origin.node });
    const speaker = await connect(hostJoin);
    await speaker.speak();

    // A first listener hears it.
    const tFirst = Date.now();
    const first = await listener('listener-0');
    expect(first.answer).toMatchObject({ shard: origin.id, node: origin.node });
    await hears(first.client, 'first listener on the origin');
    figures['listener join → first audio (origin)'] = `${Date.now() - tFirst} ms`;

    // More listeners with real WebRTC transports push the origin past 80 % of 10.
    const crowd = [];
    for (let i = 1; i <= PER_SHARD - 1; i += 1) crowd.push(await listener(`listener-${i}`));
    for (const { answer } of crowd) expect(answer.shard).toBe(origin.id);
    const tCrossed = Date.now();
    const grown = await waitFor(
      async () => {
        const s = await roomStatus();
        return s?.shards?.some((x) => x.role === 'edge') ? s : undefined;
      },
      { what: 'an edge shard in AudioRoom status', timeoutMs: 45_000, intervalMs: 100, abortIf },
    );
    figures['threshold crossed → edge in status'] = `${Date.now() - tCrossed} ms`;
    const edge = grown.shards!.find((s) => s.role === 'edge')!;
    expect(edge.region).toBe(REGION);
    // One worker per pod: the edge is on the other pod, fed by an SRTP pipe transport.
    expect(edge.node).not.toBe(origin.node);
    const { stdout } = await kubectl('get', 'audiorooms', '-n', NS, ROOM_ID, '--no-headers');
    expect(stdout.trim().split(/\s+/).slice(0, 4)).toEqual([ROOM_ID, 'Live', REGION, '2']);
    await waitFor(
      async () =>
        (await routing.getRoute(ROOM))?.shards.find((s) => s.id === edge.id && s.state === 'Ready'),
      { what: 'the edge Ready in the route', timeoutMs: 45_000, intervalMs: 100, abortIf },
    );
    figures['threshold crossed → edge Ready in route'] = `${Date.now() - tCrossed} ms`;

    // New listeners land on the edge and hear the speaker through the pipe.
    for (let i = 0; i < 3; i += 1) {
      const t = Date.now();
      const late = await listener(`late-${i}`);
      expect(late.answer).toMatchObject({ shard: edge.id, node: edge.node });
      await hears(late.client, `late listener ${i} on edge ${edge.id}`);
      figures[`late listener ${i} join → first audio (edge)`] = `${Date.now() - t} ms`;
    }
    // The crowd still hears the speaker after the edge came up.
    const now = Date.now();
    await hears(first.client, 'first listener after the edge', now);
  }, 240_000);
});
