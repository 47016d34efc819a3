// Acceptance: the MediaRegion controller against the real parts — kube-apiserver, the controller
// manager (StatefulSet pods, garbage collection), the scheduler and kwok nodes in two regions, and
// a real Redis node registry. Heartbeats are written with NodeRegistry.beat, as media pods would.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { NodeHeartbeat } from '../../common/src/contract/heartbeat.js';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import {
  createMediaRegionController,
  type MediaRegionControllerHandle,
} from '../../operator/src/controllers/media-region/controller.js';
import type { MediaRegion } from '../../operator/src/controllers/media-region/types.js';
import {
  DEFAULT_NODES,
  REGION_LABEL,
  startKubernetes,
  type KubernetesHandle,
} from '../env/kube.js';
import { repoRoot } from '../env/paths.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { kubectlBin } from '../env/tools.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);
const NS = 'media-region-test';
const group = { group: 'amphi.dev', version: 'v1alpha1', plural: 'mediaregions' };
// A third eu-west node: one pod per node (the worker ports are hostPorts), max 3 pods.
const NODES = [...DEFAULT_NODES, { name: 'kwok-eu-west-c', region: 'eu-west', zone: 'eu-west-a' }];
const timings: Record<string, number> = {};

/** `kubectl apply --server-side -f crds/` (client-node's typed CRD model would drop `default`). */
async function applyCrds(kube: KubernetesHandle): Promise<void> {
  await run(kubectlBin(), ['apply', '--server-side', '-f', join(repoRoot, 'crds')], {
    env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: kube.dir },
  });
  const ext = kube.kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const name of ['mediaregions.amphi.dev', 'audiorooms.amphi.dev']) {
    await waitFor(
      async () => {
        const got = await ext.readCustomResourceDefinition({ name });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { what: `${name} Established`, timeoutMs: 30_000, abortIf: kube.failure },
    );
  }
}

/** A heartbeat as a media pod of region eu-west would send it, with streams on worker 0. */
function heartbeat(node: string, streams: number, seq: number): NodeHeartbeat {
  const now = Date.now();
  return {
    node,
    region: 'eu-west',
    zone: 'eu-west-a',
    k8sNode: '',
    announcedAddress: '203.0.113.10',
    signalingUrl: `ws://${node}:8080/ws`,
    pipeUrl: `http://${node}:8080/pipe`,
    draining: false,
    startedAt: now - 60_000,
    sentAt: now,
    seq,
    workers: [0, 1].map((index) => ({
      index,
      alive: true,
      port: 40000 + index,
      consumers: index === 0 ? Math.max(0, streams - 1) : 0,
      producers: index === 0 && streams > 0 ? 1 : 0,
      routers: streams > 0 ? 1 : 0,
      cpuPercent: 1,
    })),
    shards: [],
  };
}

describe('MediaRegion controller on a real control plane and Redis', () => {
  let kube: KubernetesHandle;
  let redis: RedisHandle;
  let client: Redis;
  let registry: NodeRegistry;
  let handle: MediaRegionControllerHandle;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  // The fake media pods: streams each one reports, beaten every 500 ms while listed.
  const load = new Map<string, number>();
  let beating: NodeJS.Timeout | undefined;
  let seq = 0;

  beforeAll(async () => {
    [kube, redis] = await Promise.all([startKubernetes({ nodes: NODES }), startRedis()]);
    client = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    registry = new NodeRegistry(client);
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
    apps = kube.kubeConfig.makeApiClient(AppsV1Api);
    custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await applyCrds(kube);
    handle = createMediaRegionController({
      kubeConfig: kube.kubeConfig,
      registry,
      metrics: new Registry(),
      log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      namespace: NS,
      resyncMs: 30_000,
    });
    await handle.start();
    beating = setInterval(() => {
      seq++;
      for (const [node, streams] of load) void registry.beat(heartbeat(node, streams, seq));
    }, 500);
  }, 300_000);

  afterAll(async () => {
    if (beating) clearInterval(beating);
    await handle?.stop();
    client?.disconnect();
    await redis?.stop();
    await kube?.stop();
    process.stdout.write(`media-region timings (ms): ${JSON.stringify(timings)}\n`);
  }, 60_000);

  const region = (): Promise<MediaRegion> =>
    custom.getNamespacedCustomObject({
      ...group,
      namespace: NS,
      name: 'eu',
    }) as Promise<MediaRegion>;
  const stsReplicas = async (): Promise<number | undefined> =>
    (await apps.readNamespacedStatefulSet({ name: 'eu-media', namespace: NS })).spec?.replicas;
  const pods = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: NS, labelSelector: 'amphi.dev/media-region=eu' }))
      .items;

  test('a region gets its StatefulSet, headless Service, PDB and ConfigMap; pods run in its region', async () => {
    const t0 = Date.now();
    await custom.createNamespacedCustomObject({
      ...group,
      namespace: NS,
      body: {
        apiVersion: 'amphi.dev/v1alpha1',
        kind: 'MediaRegion',
        metadata: { name: 'eu' },
        spec: {
          region: 'eu-west',
          mediaPod: { image: 'registry.example/amphi/media-pod:test', workersPerPod: 2 },
          // 2 workers × 100 = 200 streams a pod, target 70% = 140.
          capacity: { listenersPerWorker: 100 },
          minReplicas: 1,
          maxReplicas: 3,
          drain: { deadlineSeconds: 120 },
        },
      },
    });
    const owned = async () => {
      const policy = kube.kubeConfig.makeApiClient(PolicyV1Api);
      return Promise.all([
        apps.readNamespacedStatefulSet({ name: 'eu-media', namespace: NS }),
        core.readNamespacedService({ name: 'eu-media', namespace: NS }),
        policy.readNamespacedPodDisruptionBudget({ name: 'eu-media', namespace: NS }),
        core.readNamespacedConfigMap({ name: 'eu-media-config', namespace: NS }),
      ]);
    };
    const [sts, svc, pdb, cm] = await waitFor(owned, {
      what: 'the owned objects',
      timeoutMs: 30_000,
      abortIf: kube.failure,
    });
    timings.appliedToOwnedObjects = Date.now() - t0;
    const uid = (await region()).metadata.uid;
    for (const o of [sts, svc, pdb, cm]) {
      expect(o.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'MediaRegion', name: 'eu', uid, controller: true }),
      ]);
      expect(o.metadata?.managedFields?.map((f) => f.manager)).toContain('amphi-operator');
    }
    expect(sts.spec?.replicas).toBe(1);
    expect(svc.spec?.clusterIP).toBe('None');
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(JSON.parse(cm.data?.['config.json'] ?? '{}')).toMatchObject({
      region: 'eu-west',
      workers: 2,
      basePort: 40000,
    });
    const ports = sts.spec?.template.spec?.containers[0]?.ports ?? [];
    expect(ports.filter((p) => p.hostPort).map((p) => `${p.protocol}/${p.hostPort}`)).toEqual([
      'UDP/40000',
      'TCP/40000',
      'UDP/40001',
      'TCP/40001',
    ]);

    const running = await waitFor(
      async () => {
        const list = await pods();
        return list.length === 1 && list.every((p) => p.status?.phase === 'Running') && list;
      },
      { what: 'eu-media-0 Running', timeoutMs: 60_000, abortIf: kube.failure },
    );
    timings.appliedToPodRunning = Date.now() - t0;
    const nodes = await core.listNode();
    const regionOf = new Map(
      nodes.items.map((n) => [n.metadata!.name!, n.metadata?.labels?.[REGION_LABEL]]),
    );
    expect(running.map((p) => regionOf.get(p.spec!.nodeName!))).toEqual(['eu-west']);

    const ready = await waitFor(
      async () => {
        const r = await region();
        const c = r.status?.conditions?.find((x) => x.type === 'Ready');
        return r.status?.readyReplicas === 1 && c?.status === 'True' && r;
      },
      { what: 'status Ready with 1 ready replica', timeoutMs: 30_000, abortIf: kube.failure },
    );
    timings.appliedToStatusReady = Date.now() - t0;
    expect(ready.status).toMatchObject({
      replicas: 1,
      readyReplicas: 1,
      selector: 'app.kubernetes.io/name=amphi-media-pod,amphi.dev/media-region=eu',
      capacity: { total: 200, used: 0 },
      drainingPods: [],
      observedGeneration: ready.metadata.generation,
    });
  }, 120_000);

  test('load above the target raises replicas (up to maxReplicas), pods spread over eu-west', async () => {
    const t0 = Date.now();
    load.set('eu-media-0', 300); // needs ceil(300 / 140) = 3 pods
    await waitFor(async () => (await stsReplicas()) === 3, {
      what: 'replicas 3',
      timeoutMs: 20_000,
      abortIf: kube.failure,
    });
    timings.loadToScaleUp = Date.now() - t0;
    const list = await waitFor(
      async () => {
        const l = await pods();
        return l.length === 3 && l.every((p) => p.status?.phase === 'Running') && l;
      },
      { what: '3 pods Running', timeoutMs: 60_000, abortIf: kube.failure },
    );
    timings.loadToThreePodsRunning = Date.now() - t0;
    expect(new Set(list.map((p) => p.spec?.nodeName))).toEqual(
      new Set(['kwok-eu-west-a', 'kwok-eu-west-b', 'kwok-eu-west-c']),
    );
    // More load never goes past maxReplicas.
    load.set('eu-media-0', 2000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await stsReplicas()).toBe(3);
    const r = await region();
    expect(r.status?.capacity).toEqual({ total: 600, used: 2000 });
  }, 120_000);

  test('when load falls the highest ordinal is drained first; replicas drop once it is empty', async () => {
    // 150 streams over 3 pods is 25% (< low watermark 30%): two pods are needed (150 / 140).
    load.set('eu-media-0', 100);
    load.set('eu-media-1', 30);
    load.set('eu-media-2', 20);
    const t0 = Date.now();
    const drain = await waitFor(() => registry.drainRequest('eu-media-2'), {
      what: 'a drain request for eu-media-2',
      timeoutMs: 20_000,
      abortIf: kube.failure,
    });
    timings.loadFallToDrainRequest = Date.now() - t0;
    expect(drain.deadline - drain.requestedAt).toBe(120_000);
    expect(await registry.drainRequest('eu-media-1')).toBeUndefined();
    await waitFor(
      async () =>
        (await core.readNamespacedPod({ name: 'eu-media-2', namespace: NS })).metadata
          ?.annotations?.['amphi.dev/draining'] === 'true',
      { what: 'eu-media-2 annotated draining', timeoutMs: 10_000 },
    );
    await waitFor(async () => (await region()).status?.drainingPods?.includes('eu-media-2'), {
      what: 'status.drainingPods',
      timeoutMs: 10_000,
    });
    const r = await region();
    expect(r.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'Draining',
    });
    // Busy: it keeps its pod.
    await new Promise((res) => setTimeout(res, 4000));
    expect(await stsReplicas()).toBe(3);

    // Its listeners leave (they rejoined elsewhere); its heartbeat shows it empty.
    const t1 = Date.now();
    load.set('eu-media-0', 120);
    load.set('eu-media-2', 0);
    await waitFor(async () => (await stsReplicas()) === 2, {
      what: 'replicas 2',
      timeoutMs: 20_000,
      abortIf: kube.failure,
    });
    timings.emptyToReplicasLowered = Date.now() - t1;
    load.delete('eu-media-2');
    await waitFor(async () => (await pods()).length === 2, {
      what: 'eu-media-2 deleted',
      timeoutMs: 60_000,
      abortIf: kube.failure,
    });
    expect(await registry.drainRequest('eu-media-2')).toBeUndefined();
    await waitFor(async () => (await region()).status?.drainingPods?.length === 0, {
      what: 'drainingPods empty',
      timeoutMs: 10_000,
    });
    const events = await kube.kubeConfig
      .makeApiClient(EventsV1Api)
      .listNamespacedEvent({ namespace: NS });
    const reasons = events.items
      .filter((e) => e.regarding?.kind === 'MediaRegion')
      .map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['ScalingUp', 'Draining', 'ScalingDown']));
  }, 120_000);

  test('a drain is cancelled when load comes back', async () => {
    load.set('eu-media-0', 60);
    load.set('eu-media-1', 20); // 80 / 400 = 20%: one pod is needed, eu-media-1 drains
    await waitFor(() => registry.drainRequest('eu-media-1'), {
      what: 'a drain request for eu-media-1',
      timeoutMs: 20_000,
    });
    load.set('eu-media-0', 200); // 220 needs 2 pods again
    await waitFor(async () => (await registry.drainRequest('eu-media-1')) === undefined, {
      what: 'the drain of eu-media-1 cancelled',
      timeoutMs: 20_000,
    });
    await waitFor(
      async () =>
        (await core.readNamespacedPod({ name: 'eu-media-1', namespace: NS })).metadata
          ?.annotations?.['amphi.dev/draining'] === undefined,
      { what: 'the draining annotation removed', timeoutMs: 10_000 },
    );
    expect(await stsReplicas()).toBe(2);
  }, 60_000);

  test('a region annotated amphi.dev/reconciliation=disabled is left alone until the annotation goes', async () => {
    await custom.createNamespacedCustomObject({
      ...group,
      namespace: NS,
      body: {
        apiVersion: 'amphi.dev/v1alpha1',
        kind: 'MediaRegion',
        metadata: { name: 'paused', annotations: { 'amphi.dev/reconciliation': 'disabled' } },
        spec: {
          region: 'eu-west',
          mediaPod: { image: 'registry.example/amphi/media-pod:test' },
          minReplicas: 1,
          maxReplicas: 1,
        },
      },
    });
    // The event says the controller saw the region and chose to do nothing.
    await waitFor(
      async () => {
        const { items } = await kube.kubeConfig
          .makeApiClient(EventsV1Api)
          .listNamespacedEvent({ namespace: NS });
        return items.some(
          (e) => e.reason === 'ReconciliationDisabled' && e.regarding?.name === 'paused',
        );
      },
      { what: 'the ReconciliationDisabled event', timeoutMs: 20_000, abortIf: kube.failure },
    );
    const owned = await Promise.all([
      apps.listNamespacedStatefulSet({ namespace: NS }),
      core.listNamespacedConfigMap({
        namespace: NS,
        labelSelector: 'amphi.dev/media-region=paused',
      }),
    ]);
    expect(owned[0].items.map((s) => s.metadata?.name)).not.toContain('paused-media');
    expect(owned[1].items).toEqual([]);
    expect(
      (
        (await custom.getNamespacedCustomObject({
          ...group,
          namespace: NS,
          name: 'paused',
        })) as MediaRegion
      ).status,
    ).toBeUndefined();

    // An annotation change bumps no generation: the controller must still notice it.
    await custom.patchNamespacedCustomObject(
      {
        ...group,
        namespace: NS,
        name: 'paused',
        body: { metadata: { annotations: { 'amphi.dev/reconciliation': null } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      async () =>
        (await apps.listNamespacedStatefulSet({ namespace: NS })).items.some(
          (s) => s.metadata?.name === 'paused-media',
        ),
      { what: 'paused-media created once reconciliation is enabled', timeoutMs: 10_000 },
    );
    await custom.deleteNamespacedCustomObject({ ...group, namespace: NS, name: 'paused' });
  }, 60_000);

  test('deleting the region garbage-collects the owned objects', async () => {
    load.clear();
    const t0 = Date.now();
    await custom.deleteNamespacedCustomObject({ ...group, namespace: NS, name: 'eu' });
    await waitFor(
      async () => {
        const [sts, svc, cm] = await Promise.all([
          apps.listNamespacedStatefulSet({ namespace: NS }),
          core.listNamespacedService({ namespace: NS }),
          core.listNamespacedConfigMap({
            namespace: NS,
            labelSelector: 'amphi.dev/media-region=eu',
          }),
        ]);
        return sts.items.length + svc.items.length + cm.items.length === 0;
      },
      { what: 'owned objects removed', timeoutMs: 60_000, abortIf: kube.failure },
    );
    timings.deleteToGarbageCollected = Date.now() - t0;
  }, 90_000);
});
