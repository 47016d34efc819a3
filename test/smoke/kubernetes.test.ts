// Smoke test of the test bed's real control plane: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (fake regional nodes), driven with client-node, helm and kubectl.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
  type V1Pod,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REGION_LABEL, startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { pin, repoRoot } from '../env/paths.js';
import { helmBin, kubectlBin } from '../env/tools.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);

describe('Kubernetes control plane (real etcd, apiserver, controller-manager, scheduler, kwok)', () => {
  let kube: KubernetesHandle;
  let core: CoreV1Api;
  let toolHome: string;

  beforeAll(async () => {
    const t0 = Date.now();
    kube = await startKubernetes();
    console.info(`control plane with ${kube.nodes.length} nodes ready in ${Date.now() - t0} ms`);
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
    toolHome = mkdtempSync(join(tmpdir(), 'amphi-kube-tools-'));
  }, 300_000);

  afterAll(async () => {
    const processes = kube ? Object.values(kube.components) : [];
    await kube?.stop();
    if (toolHome) rmSync(toolHome, { recursive: true, force: true });
    for (const proc of processes) expect(proc.running).toBe(false);
  }, 60_000);

  /** Runs kubectl or helm against the test cluster only, with its own config/cache dirs. */
  async function tool(bin: string, args: string[]): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBECONFIG: kube.kubeconfigPath,
      HOME: toolHome,
    };
    for (const v of ['CACHE', 'CONFIG', 'DATA']) env[`HELM_${v}_HOME`] = join(toolHome, v);
    const { stdout } = await run(bin, args, { env, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  }

  async function namespace(name: string): Promise<void> {
    await core.createNamespace({ body: { metadata: { name } } });
  }

  test('serves the pinned Kubernetes version with the fake regional nodes Ready', async () => {
    const { items } = await core.listNode();
    const regions = items.map((n) => n.metadata?.labels?.[REGION_LABEL]).sort();
    expect(regions).toEqual(['eu-west', 'eu-west', 'us-east', 'us-east']);
    const kubectlVersion = JSON.parse(await tool(kubectlBin(), ['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    expect(kubectlVersion.serverVersion.gitVersion).toBe(`v${pin('KUBERNETES_VERSION')}`);
  });

  test('a CRD x-kubernetes-validations rule rejects a violating object with its message', async () => {
    const message = 'spec.minListeners must not exceed spec.maxListeners';
    const crd: V1CustomResourceDefinition = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'smokerooms.smoke.amphi.test' },
      spec: {
        group: 'smoke.amphi.test',
        scope: 'Namespaced',
        names: { plural: 'smokerooms', singular: 'smokeroom', kind: 'SmokeRoom' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['minListeners', 'maxListeners'],
                    properties: {
                      minListeners: { type: 'integer', minimum: 0 },
                      maxListeners: { type: 'integer', minimum: 0 },
                    },
                    // client-node's model name for `x-kubernetes-validations` (its serializer
                    // drops keys it does not model, so the YAML spelling would vanish).
                    x_kubernetes_validations: [
                      { rule: 'self.minListeners <= self.maxListeners', message },
                    ],
                  },
                },
              },
            },
          },
        ],
      },
    };
    const ext = kube.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd });
    const stored = await waitFor(
      async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
        const established = got.status?.conditions?.some(
          (c) => c.type === 'Established' && c.status === 'True',
        );
        return established ? got : undefined;
      },
      { what: 'the CRD to be Established', timeoutMs: 60_000, abortIf: kube.failure },
    );
    const specSchema = stored.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.spec;
    expect(specSchema?.x_kubernetes_validations).toEqual([
      expect.objectContaining({ rule: 'self.minListeners <= self.maxListeners', message }),
    ]);

    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    const create = (name: string, spec: object): Promise<unknown> =>
      custom.createNamespacedCustomObject({
        group: 'smoke.amphi.test',
        version: 'v1',
        namespace: 'default',
        plural: 'smokerooms',
        body: { apiVersion: 'smoke.amphi.test/v1', kind: 'SmokeRoom', metadata: { name }, spec },
      });
    // A valid object is accepted (retried while the new resource's endpoint is still warming up).
    await waitFor(() => create('valid', { minListeners: 1, maxListeners: 10 }), {
      what: 'a valid SmokeRoom to be created',
      timeoutMs: 60_000,
      abortIf: kube.failure,
    });

    const rejection = await create('invalid', { minListeners: 20, maxListeners: 10 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(rejection).toBeInstanceOf(ApiException);
    const apiError = rejection as ApiException<string>;
    expect(apiError.code).toBe(422);
    const status = JSON.parse(apiError.body) as {
      reason: string;
      details: { causes: { message: string }[] };
    };
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes.map((c) => c.message)).toContainEqual(
      expect.stringContaining(message),
    );
    const accepted = await custom.listNamespacedCustomObject({
      group: 'smoke.amphi.test',
      version: 'v1',
      namespace: 'default',
      plural: 'smokerooms',
    });
    expect(
      (accepted as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name),
    ).toEqual(['valid']);
  });

  test('a StatefulSet with a region nodeSelector runs its Pods on that region’s kwok nodes', async () => {
    const ns = 'smoke-sts';
    await namespace(ns);
    const apps = kube.kubeConfig.makeApiClient(AppsV1Api);
    const labels = { app: 'media' };
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'media' },
        spec: {
          serviceName: 'media',
          replicas: 3,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              nodeSelector: { [REGION_LABEL]: 'us-east' },
              containers: [{ name: 'media', image: 'registry.invalid/amphi/media:0.1.0' }],
            },
          },
        },
      },
    });

    const pods = await waitFor(
      async () => {
        const { items } = await core.listNamespacedPod({
          namespace: ns,
          labelSelector: 'app=media',
        });
        return items.length === 3 && items.every((p) => p.status?.phase === 'Running')
          ? items
          : undefined;
      },
      { what: 'three Running media pods', timeoutMs: 120_000, abortIf: kube.failure },
    );
    const regionOf = new Map(
      (await core.listNode()).items.map((n) => [
        n.metadata!.name!,
        n.metadata!.labels![REGION_LABEL],
      ]),
    );
    const placed = pods.map((p: V1Pod) => ({
      name: p.metadata!.name,
      phase: p.status!.phase,
      region: regionOf.get(p.spec!.nodeName!),
      ip: p.status!.podIP,
    }));
    for (const pod of placed) {
      expect(pod).toMatchObject({ phase: 'Running', region: 'us-east' });
      expect(pod.ip).toMatch(/^10\.244\./);
    }
    expect(placed.map((p) => p.name).sort()).toEqual(['media-0', 'media-1', 'media-2']);
    const sts = await waitFor(
      async () => {
        const got = await apps.readNamespacedStatefulSet({ name: 'media', namespace: ns });
        return got.status?.readyReplicas === 3 ? got : undefined;
      },
      {
        what: 'the StatefulSet to report 3 ready replicas',
        timeoutMs: 60_000,
        abortIf: kube.failure,
      },
    );
    expect(sts.status?.readyReplicas).toBe(3);
  });

  test('helm installs a chart into the test cluster and kubectl reads it back', async () => {
    const ns = 'smoke-helm';
    const chart = join(repoRoot, 'test/smoke/fixtures/smoke-chart');
    await tool(helmBin(), [
      'install',
      'smoke',
      chart,
      '--namespace',
      ns,
      '--create-namespace',
      '--set',
      'greeting=installed by helm',
    ]);

    const cm = await core.readNamespacedConfigMap({ name: 'smoke-settings', namespace: ns });
    expect(cm.data).toEqual({ greeting: 'installed by helm' });
    expect(cm.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');

    const apps = kube.kubeConfig.makeApiClient(AppsV1Api);
    const deployment = await waitFor(
      async () => {
        const got = await apps.readNamespacedDeployment({ name: 'smoke-web', namespace: ns });
        return got.status?.availableReplicas === 2 ? got : undefined;
      },
      { what: 'the chart’s Deployment to be available', timeoutMs: 120_000, abortIf: kube.failure },
    );
    expect(deployment.spec?.template.spec?.nodeSelector).toEqual({ [REGION_LABEL]: 'eu-west' });

    const releases = JSON.parse(await tool(helmBin(), ['list', '-n', ns, '-o', 'json'])) as {
      name: string;
      status: string;
    }[];
    expect(releases).toEqual([expect.objectContaining({ name: 'smoke', status: 'deployed' })]);

    const got = JSON.parse(
      await tool(kubectlBin(), ['get', 'configmap,deployment,pods', '-n', ns, '-o', 'json']),
    ) as { items: { kind: string; metadata: { name: string }; spec?: { nodeName?: string } }[] };
    const names = got.items.map((i) => `${i.kind}/${i.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining(['ConfigMap/smoke-settings', 'Deployment/smoke-web']),
    );
    const podNodes = got.items.filter((i) => i.kind === 'Pod').map((i) => i.spec?.nodeName);
    expect(podNodes).toHaveLength(2);
    for (const node of podNodes) expect(node).toMatch(/^kwok-eu-west-/);
  });
});
