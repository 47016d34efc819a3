// Acceptance: the committed CRDs (crds/*.yaml) on a real kube-apiserver — they apply, defaults are
// filled in, the CEL rules reject bad specs with their messages, and kubectl prints the columns.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { repoRoot } from '../env/paths.js';
import { kubectlBin } from '../env/tools.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);
const NS = 'crd-validation';
const regions = { group: 'amphi.dev', version: 'v1alpha1', plural: 'mediaregions' };
const rooms = { group: 'amphi.dev', version: 'v1alpha1', plural: 'audiorooms' };

type Obj = { metadata: { name: string }; spec: Record<string, unknown> };

describe('the generated CRDs on a real API server', () => {
  let kube: KubernetesHandle;
  let custom: CustomObjectsApi;

  const kubectl = async (args: string[]): Promise<string> =>
    (
      await run(kubectlBin(), args, {
        env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: kube.dir },
      })
    ).stdout;

  beforeAll(async () => {
    kube = await startKubernetes({ nodes: [] });
    custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    await kube.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: NS } } });
  }, 300_000);

  afterAll(async () => {
    await kube?.stop();
  }, 60_000);

  const region = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'MediaRegion',
    metadata: { name },
    spec: { region: 'eu-west', mediaPod: { image: 'amphi/media-pod:1' }, ...spec },
  });
  const room = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'AudioRoom',
    metadata: { name },
    spec: { title: 'Town hall', ...spec },
  });
  const createRegion = (body: object) =>
    custom.createNamespacedCustomObject({ ...regions, namespace: NS, body }) as Promise<Obj>;
  const createRoom = (body: object) =>
    custom.createNamespacedCustomObject({ ...rooms, namespace: NS, body }) as Promise<Obj>;

  /** The API server's rejection text (422 Invalid), or a failure if it accepted. */
  async function rejection(request: Promise<unknown>): Promise<string> {
    try {
      await request;
    } catch (err) {
      const e = err as { code?: number; body?: unknown; message?: string };
      expect(e.code).toBe(422);
      // The Status body's message lists every cause ("spec.x: Invalid value: <CEL message>").
      try {
        return (JSON.parse(String(e.body)) as { message: string }).message;
      } catch {
        return String(e.body ?? e.message);
      }
    }
    throw new Error('the API server accepted an invalid object');
  }

  test('the committed CRDs apply and become Established', async () => {
    const out = await kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
    expect(out).toContain('mediaregions.amphi.dev serverside-applied');
    expect(out).toContain('audiorooms.amphi.dev serverside-applied');
    const ext = kube.kubeConfig.makeApiClient(ApiextensionsV1Api);
    for (const name of ['mediaregions.amphi.dev', 'audiorooms.amphi.dev']) {
      await waitFor(
        async () =>
          (await ext.readCustomResourceDefinition({ name })).status?.conditions?.some(
            (c) => c.type === 'Established' && c.status === 'True',
          ),
        { what: `${name} Established`, timeoutMs: 30_000, abortIf: kube.failure },
      );
    }
    // Serving: the first create may race discovery for a moment.
    await waitFor(() => createRegion(region('minimal')), {
      what: 'a MediaRegion to be accepted',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  }, 60_000);

  test('a minimal MediaRegion is accepted with every default filled in', async () => {
    const got = (await custom.getNamespacedCustomObject({
      ...regions,
      namespace: NS,
      name: 'minimal',
    })) as Obj;
    expect(got.spec).toEqual({
      region: 'eu-west',
      mediaPod: { image: 'amphi/media-pod:1', workersPerPod: 2, basePort: 40000 },
      addresses: { policy: 'NodeExternalIP' },
      capacity: {
        listenersPerWorker: 500,
        targetUtilizationPercent: 70,
        highWatermarkPercent: 80,
        lowWatermarkPercent: 30,
      },
      minReplicas: 1,
      maxReplicas: 10,
      drain: { deadlineSeconds: 3600 },
    });
    // Partly given nested objects get the rest of their defaults.
    const partial = await createRegion(
      region('partial', {
        capacity: { listenersPerWorker: 100 },
        addresses: { policy: 'Static', staticAddress: '203.0.113.7' },
      }),
    );
    expect(partial.spec.capacity).toEqual({
      listenersPerWorker: 100,
      targetUtilizationPercent: 70,
      highWatermarkPercent: 80,
      lowWatermarkPercent: 30,
    });
  });

  test('a minimal AudioRoom is accepted with defaults, and a full one as given', async () => {
    const got = await createRoom(room('minimal'));
    expect(got.spec).toEqual({
      title: 'Town hall',
      sharding: { listenersPerShard: 500, maxShards: 50 },
      speakerLimit: 10,
    });
    const full = await createRoom(
      room('full', {
        regions: ['eu-west', 'us-east'],
        sharding: { listenersPerShard: 200 },
        lifecycle: { startAt: '2030-01-01T10:00:00Z', endAt: '2030-01-01T11:00:00Z' },
      }),
    );
    expect(full.spec).toMatchObject({
      regions: ['eu-west', 'us-east'],
      sharding: { listenersPerShard: 200, maxShards: 50 },
    });
  });

  test.each([
    [
      'minReplicas > maxReplicas',
      { minReplicas: 5, maxReplicas: 2 },
      'minReplicas must not exceed maxReplicas',
    ],
    [
      'low watermark >= high watermark',
      { capacity: { lowWatermarkPercent: 80, highWatermarkPercent: 80 } },
      'lowWatermarkPercent must be below highWatermarkPercent',
    ],
    [
      'the last worker port past 65535',
      { mediaPod: { image: 'i', basePort: 65535, workersPerPod: 2 } },
      'basePort + workersPerPod - 1 must be a valid port (<= 65535)',
    ],
    [
      'a privileged base port',
      { mediaPod: { image: 'i', basePort: 80 } },
      'spec.mediaPod.basePort: Invalid value: 80: spec.mediaPod.basePort in body should be greater than or equal to 1024',
    ],
    [
      'policy Static without staticAddress',
      { addresses: { policy: 'Static' } },
      'staticAddress is required when policy is Static',
    ],
    [
      'an unknown address policy',
      { addresses: { policy: 'Magic' } },
      'spec.addresses.policy: Unsupported value: "Magic"',
    ],
  ])('MediaRegion rejected: %s', async (_name, spec, message) => {
    const text = await rejection(createRegion(region('bad', spec)));
    expect(text).toContain(message);
  });

  test('MediaRegion rejected: region changed after create (immutable)', async () => {
    await createRegion(region('immutable'));
    const text = await rejection(
      custom.replaceNamespacedCustomObject({
        ...regions,
        namespace: NS,
        name: 'immutable',
        body: {
          ...(await custom.getNamespacedCustomObject({
            ...regions,
            namespace: NS,
            name: 'immutable',
          })),
          spec: { ...region('immutable').spec, region: 'us-east' },
        },
      }),
    );
    expect(text).toContain('region is immutable');
  });

  test('AudioRoom rejected: endAt not after startAt', async () => {
    for (const endAt of ['2030-01-01T10:00:00Z', '2030-01-01T09:00:00Z']) {
      const text = await rejection(
        createRoom(room('bad-time', { lifecycle: { startAt: '2030-01-01T10:00:00Z', endAt } })),
      );
      expect(text).toContain('endAt must be after startAt');
    }
  });

  test('AudioRoom rejected: regions changed once set', async () => {
    await createRoom(room('pinned', { regions: ['eu-west'] }));
    const current = (await custom.getNamespacedCustomObject({
      ...rooms,
      namespace: NS,
      name: 'pinned',
    })) as Obj;
    const text = await rejection(
      custom.replaceNamespacedCustomObject({
        ...rooms,
        namespace: NS,
        name: 'pinned',
        body: { ...current, spec: { ...current.spec, regions: ['us-east'] } },
      }),
    );
    expect(text).toContain('regions cannot change once set; end the room and create a new one');
  });

  test('kubectl get prints the printer columns', async () => {
    const header = (out: string) => out.split('\n')[0]!.trim().split(/\s+/);
    expect(header(await kubectl(['get', 'mediaregions', '-n', NS]))).toEqual([
      'NAME',
      'REGION',
      'REPLICAS',
      'READY-PODS',
      'ROOMS',
      'CAPACITY',
      'USED',
      'READY',
      'AGE',
    ]);
    expect(header(await kubectl(['get', 'audiorooms', '-n', NS]))).toEqual([
      'NAME',
      'PHASE',
      'REGION',
      'SHARDS',
      'LISTENERS',
      'AGE',
    ]);
    expect(header(await kubectl(['get', 'rooms', '-n', NS, '-o', 'wide']))).toEqual([
      'NAME',
      'PHASE',
      'REGION',
      'SHARDS',
      'LISTENERS',
      'SPEAKERS',
      'TITLE',
      'AGE',
    ]);
    const rows = (await kubectl(['get', 'mreg', '-n', NS, '--no-headers'])).trim().split('\n');
    expect(rows.map((r) => r.split(/\s+/).slice(0, 2))).toContainEqual(['minimal', 'eu-west']);
  });
});
