// Acceptance of charts/amphi on real helm and the real test control plane (etcd, kube-apiserver,
// controller-manager, scheduler, kwok): lint, server-side dry runs of every optional part, install,
// the operator and the control API run from source with the chart's ServiceAccounts, env and
// Secrets (proves the RBAC, the rendered MediaRegion getting its StatefulSet, and the helm test
// hook against a real API), upgrade, invalid values, uninstall (also straight after the first install).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type V1Container,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { ManagedProcess } from '../env/managed-process.js';
import { repoRoot } from '../env/paths.js';
import { freePort } from '../env/ports.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { helmBin, kubectlBin } from '../env/tools.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);
const CHART = join(repoRoot, 'charts/amphi');
const ALL_ON = join(CHART, 'ci/all-on-values.yaml');
const ALL_OFF = join(CHART, 'ci/all-off-values.yaml');
const NS = 'amphi-system';
const RELEASE = 'amphi';
const FULL = 'amphi'; // release name contains the chart name → fullname is the release name
const REGION_SET = ['--set', 'regions[0].name=eu', '--set', 'regions[0].region=eu-west'];
/** Asymmetric join tokens: the Secret (private.pem, public.pem) named by joinToken.keyPairSecret. */
const JOIN_KEYS = 'amphi-join-keys';
const KEY_PAIR_SET = ['--set', `joinToken.keyPairSecret=${JOIN_KEYS}`];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
}

/** A minimal monitoring.coreos.com ServiceMonitor CRD (the real one is much larger). */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { plural: 'servicemonitors', singular: 'servicemonitor', kind: 'ServiceMonitor' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    ],
  },
};

/** A container env value as the kubelet expands it: $$ → $, $(VAR) from variables defined above. */
function kubeletExpand(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name?: string) =>
    name === undefined ? '$' : (defined[name] ?? whole),
  );
}

describe('charts/amphi on real helm and a real API server', () => {
  let kube: KubernetesHandle;
  let redis: RedisHandle;
  let toolHome: string;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  const timings: Record<string, number> = {};
  /** Processes run from source (operator, control API), stopped after the suite. */
  const fromSource: ManagedProcess[] = [];

  async function tool(bin: string, args: string[], input?: string): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBECONFIG: kube.kubeconfigPath,
      HOME: toolHome,
    };
    for (const v of ['CACHE', 'CONFIG', 'DATA']) env[`HELM_${v}_HOME`] = join(toolHome, v);
    const child = run(bin, args, { env, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return (await child).stdout;
  }
  const helm = (args: string[]): Promise<string> => tool(helmBin(), args);
  const kubectl = (args: string[], input?: string): Promise<string> =>
    tool(kubectlBin(), args, input);
  const failure = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => '',
      (e: unknown) => String((e as { stderr?: string }).stderr ?? e),
    );
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await f();
    } finally {
      timings[name] = Date.now() - t0;
    }
  };
  const docs = (yaml: string): Obj[] =>
    parseAllDocuments(yaml)
      .map((d) => d.toJS() as Obj | null)
      .filter((d): d is Obj => d !== null && typeof d === 'object' && 'kind' in d);

  beforeAll(async () => {
    [kube, redis] = await Promise.all([startKubernetes(), startRedis()]);
    toolHome = mkdtempSync(join(tmpdir(), 'amphi-helm-'));
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
    apps = kube.kubeConfig.makeApiClient(AppsV1Api);
    custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
  }, 300_000);

  afterAll(async () => {
    for (const op of fromSource) await op.stop(5_000);
    await Promise.all([kube?.stop(), redis?.stop()]);
    if (toolHome) rmSync(toolHome, { recursive: true, force: true });
    console.info(`helm acceptance timings (ms): ${JSON.stringify(timings)}`);
  }, 60_000);

  test('the chart’s CRDs are crds/*.yaml, byte for byte and as rendered', async () => {
    const files = readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect(readdirSync(join(CHART, 'files/crds')).sort()).toEqual(files.sort());
    for (const f of files) {
      expect(readFileSync(join(CHART, 'files/crds', f), 'utf8')).toBe(
        readFileSync(join(repoRoot, 'crds', f), 'utf8'),
      );
    }
    const rendered = docs(await helm(['template', RELEASE, CHART, '-n', NS])).filter(
      (d) => d.kind === 'CustomResourceDefinition',
    );
    expect(rendered).toHaveLength(files.length);
    for (const crd of rendered) {
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      const source = files
        .map((f) => parse(readFileSync(join(repoRoot, 'crds', f), 'utf8')) as Obj)
        .find((c) => c.metadata.name === crd.metadata.name)!;
      const strip = (o: Obj): Obj => ({
        ...o,
        metadata: { ...o.metadata, labels: {}, annotations: {} },
      });
      expect(strip(crd)).toEqual(strip(source));
    }
    const off = docs(
      await helm(['template', RELEASE, CHART, '-n', NS, '--set', 'crds.install=false']),
    );
    expect(off.filter((d) => d.kind === 'CustomResourceDefinition')).toEqual([]);
  });

  test('helm lint passes with the default and the all-on values', async () => {
    await timed('lint', async () => {
      for (const extra of [[], ['-f', ALL_ON], ['-f', ALL_OFF]]) {
        const out = await helm(['lint', CHART, '--strict', ...extra]);
        expect(out).toContain('0 chart(s) failed');
      }
    });
  });

  test('helm template output is accepted by the API server (server-side dry run): defaults, all on, all off', async () => {
    await timed('dry-runs', async () => {
      await kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
      await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(SERVICE_MONITOR_CRD));
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
      for (const ns of ['dry-defaults', 'dry-on', 'dry-off', 'amphi-rooms']) {
        await core.createNamespace({ body: { metadata: { name: ns } } });
      }
      const cases: [string, string[]][] = [
        ['dry-defaults', REGION_SET],
        ['dry-on', ['-f', ALL_ON]],
        ['dry-off', ['-f', ALL_OFF]],
      ];
      for (const [ns, values] of cases) {
        const manifest = await helm(['template', RELEASE, CHART, '-n', ns, ...values]);
        expect(manifest).not.toMatch(/^[ \t]+$/m); // no whitespace-only lines left by templates
        const objects = docs(manifest);
        const kinds = new Set(objects.map((o) => o.kind));
        if (ns === 'dry-on') {
          for (const k of [
            'ServiceMonitor',
            'NetworkPolicy',
            'Ingress',
            'HorizontalPodAutoscaler',
            'PodDisruptionBudget',
            'MediaRegion',
            'StatefulSet',
            'RoleBinding',
            'Pod', // the helm test hook
          ]) {
            expect(kinds).toContain(k);
          }
          expect(
            objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name),
          ).toEqual(
            expect.arrayContaining([`${FULL}-operator`, `${FULL}-control-api`, `${FULL}-coturn`]),
          );
        }
        if (ns === 'dry-off') {
          for (const k of [
            'StatefulSet',
            'CustomResourceDefinition',
            'HorizontalPodAutoscaler',
            'NetworkPolicy',
            'ServiceMonitor',
            'MediaRegion',
          ]) {
            expect(kinds).not.toContain(k);
          }
        }
        // CRDs are applied above; a dry run of them again is fine (server-side apply).
        const out = await kubectl(
          ['apply', '--dry-run=server', '--server-side', '--field-manager=helm-test', '-f', '-'],
          manifest,
        );
        expect(out.trim().split('\n')).toHaveLength(objects.length);
      }
    });
  }, 120_000);

  test('joinToken.keyPairSecret: the control API gets the private key, the operator only the public key’s Secret; the API server accepts it', async () => {
    // Runs after the dry-run test above, which applied the CRDs the MediaRegion needs.
    const ns = 'dry-keys';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const manifest = await helm([
      'template',
      RELEASE,
      CHART,
      '-n',
      ns,
      ...REGION_SET,
      ...KEY_PAIR_SET,
    ]);
    expect(manifest).not.toMatch(/^[ \t]+$/m);
    const objects = docs(manifest);
    const env = (deployment: string) => {
      const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment);
      const spec = d?.spec as { template: { spec: { containers: V1Container[] } } } | undefined;
      return spec?.template.spec.containers[0]?.env ?? [];
    };
    const api = env(`${FULL}-control-api`);
    expect(api.filter((e) => e.name.startsWith('JOIN_TOKEN_') && e.valueFrom)).toEqual([
      {
        name: 'JOIN_TOKEN_PRIVATE_KEY',
        valueFrom: { secretKeyRef: { name: JOIN_KEYS, key: 'private.pem' } },
      },
    ]);
    expect(api.map((e) => e.name)).not.toContain('JOIN_TOKEN_SECRET');
    const operator = env(`${FULL}-operator`);
    const values = Object.fromEntries(operator.map((e) => [e.name, e.value]));
    expect(values).toMatchObject({
      AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME: JOIN_KEYS,
      AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_KEY: 'public.pem',
    });
    expect(Object.keys(values)).not.toContain('AMPHI_JOIN_TOKEN_SECRET_NAME');
    expect(Object.keys(values)).not.toContain('AMPHI_JOIN_TOKEN_SECRET_KEY');
    // No shared join-token secret is generated; the other generated secrets stay.
    const generated = objects.find(
      (o) => o.kind === 'Secret' && o.metadata.name === `${FULL}-secrets`,
    ) as unknown as { data: Record<string, string> };
    expect(Object.keys(generated.data).sort()).toEqual(['auth-jwt-secret', 'redis-password']);
    const out = await kubectl(
      ['apply', '--dry-run=server', '--server-side', '--field-manager=helm-test', '-f', '-'],
      manifest,
    );
    expect(out.trim().split('\n')).toHaveLength(objects.length);
  }, 60_000);

  test('helm install creates everything; operator pods Running on kwok nodes; the region exists', async () => {
    // The CRDs exist already (dry-run test): remove them so the chart creates them itself.
    await kubectl(['delete', 'crd', 'mediaregions.amphi.dev', 'audiorooms.amphi.dev']);
    await timed('install', () =>
      helm(['install', RELEASE, CHART, '-n', NS, '--create-namespace', ...REGION_SET]),
    );
    const got = JSON.parse(
      await kubectl([
        'get',
        'deploy,sts,svc,secret,sa,role,rolebinding,pdb,hpa',
        '-n',
        NS,
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
        '-o',
        'json',
      ]),
    ) as { items: Obj[] };
    const names = got.items.map((i) => `${i.kind}/${i.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        `Deployment/${FULL}-operator`,
        `Deployment/${FULL}-control-api`,
        `StatefulSet/${FULL}-redis`,
        `StatefulSet/${FULL}-cassandra`,
        `Service/${FULL}-operator-metrics`,
        `Service/${FULL}-control-api`,
        `Secret/${FULL}-secrets`,
        `ServiceAccount/${FULL}-operator`,
        `Role/${FULL}-operator-leader-election`,
        `HorizontalPodAutoscaler/${FULL}-control-api`,
        `PodDisruptionBudget/${FULL}-control-api`,
        `PodDisruptionBudget/${FULL}-operator`,
      ]),
    );
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    expect(crds).toContain('mediaregions.amphi.dev');

    const pods = await waitFor(
      async () => {
        const { items } = await core.listNamespacedPod({
          namespace: NS,
          labelSelector: 'app.kubernetes.io/component=operator',
        });
        return items.length === 2 && items.every((p) => p.status?.phase === 'Running')
          ? items
          : undefined;
      },
      { what: 'two Running operator pods', timeoutMs: 120_000, abortIf: kube.failure },
    );
    for (const p of pods) expect(p.spec?.nodeName).toMatch(/^kwok-/);
    const c = pods[0]!.spec!.containers[0]!;
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pods[0]!.spec?.securityContext).toMatchObject({ runAsNonRoot: true });

    const region = (await custom.getNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      plural: 'mediaregions',
      namespace: NS,
      name: 'eu',
    })) as Obj;
    expect(region.spec).toMatchObject({
      region: 'eu-west',
      mediaPod: { image: 'amphi/media-pod:0.1.0' },
    });
  }, 180_000);

  /** A kubeconfig that authenticates as a ServiceAccount the chart created. */
  async function serviceAccountKubeconfig(name: string, ns: string): Promise<string> {
    const token = (await kubectl(['create', 'token', name, '-n', ns, '--duration', '1h'])).trim();
    const admin = parse(readFileSync(kube.kubeconfigPath, 'utf8')) as { clusters: unknown[] };
    const kubeconfig = join(toolHome, `${ns}-${name}.kubeconfig`);
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: admin.clusters,
        users: [{ name, user: { token } }],
        contexts: [{ name: 'sa', context: { cluster: 'amphi-test', user: name } }],
        'current-context': 'sa',
      }),
      { mode: 0o600 },
    );
    return kubeconfig;
  }

  /**
   * A container's env as the kubelet would give it: values expanded, Secret keys read from the
   * Secrets; downward-API fields are left out (the caller sets what this process can use).
   */
  async function containerEnv(container: V1Container, ns: string): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (e.value !== undefined) env[e.name] = kubeletExpand(e.value, env);
      else if (ref) {
        const secret = await core.readNamespacedSecret({ name: ref.name!, namespace: ns });
        env[e.name] = Buffer.from(secret.data![ref.key]!, 'base64').toString();
      }
    }
    return env;
  }

  /**
   * The operator run from source as the chart's operator ServiceAccount, with the env the chart
   * gave its container (values from the downward API and Secrets replaced by what this process can
   * use): proves the RBAC and the wiring without an image.
   */
  async function operatorFromSource(fullname: string, ns: string): Promise<ManagedProcess> {
    const kubeconfig = await serviceAccountKubeconfig(`${fullname}-operator`, ns);
    // The env the chart gave the operator container (values from the downward API and Secrets are
    // replaced by what this process can use).
    const deployment = await apps.readNamespacedDeployment({
      name: `${fullname}-operator`,
      namespace: ns,
    });
    const env: Record<string, string> = {};
    for (const e of deployment.spec!.template.spec!.containers[0]!.env!) {
      if (e.value !== undefined) env[e.name] = kubeletExpand(e.value, env);
    }
    const port = await freePort();
    const op = new ManagedProcess({
      name: `helm-operator-${port}`,
      command: process.execPath,
      args: ['--import', 'tsx', 'operator/src/main.ts'],
      cwd: repoRoot,
      env: {
        ...process.env,
        ...env,
        KUBECONFIG: kubeconfig,
        REDIS_URL: redis.url,
        POD_NAME: 'helm-test-operator',
        POD_NAMESPACE: ns,
        AMPHI_HEALTH_PORT: String(port),
      },
    });
    fromSource.push(op);
    return op;
  }

  test('the operator, run from source with the chart’s ServiceAccount and env, gives the rendered MediaRegion its StatefulSet', async () => {
    const op = await operatorFromSource(FULL, NS);
    const sts = await timed('operator-to-statefulset', () =>
      waitFor(
        async () => {
          try {
            return await apps.readNamespacedStatefulSet({ name: 'eu-media', namespace: NS });
          } catch {
            return undefined;
          }
        },
        {
          what: 'the operator to create StatefulSet eu-media',
          timeoutMs: 60_000,
          intervalMs: 250,
          abortIf: () => op.exitReason() ?? kube.failure(),
        },
      ),
    );
    expect(sts.spec?.template.spec?.containers[0]?.image).toBe('amphi/media-pod:0.1.0');
    // The chart's platform settings reach the media pods: identity, join-token key, Redis.
    const podSpec = sts.spec?.template.spec;
    expect(podSpec?.serviceAccountName).toBe(`${FULL}-media-pod`);
    await kubectl(['get', 'serviceaccount', `${FULL}-media-pod`, '-n', NS]);
    const mediaEnv = podSpec?.containers[0]?.env ?? [];
    const tokenEnv = mediaEnv.find((e) => e.name === 'JOIN_TOKEN_SECRET');
    expect(tokenEnv?.valueFrom?.secretKeyRef?.name).toBe(`${FULL}-secrets`);
    expect(mediaEnv.map((e) => e.name)).not.toContain('JOIN_TOKEN_PUBLIC_KEY'); // HS256 here
    await kubectl(['get', 'secret', `${FULL}-secrets`, '-n', NS]);
    // Redis: the password reaches the media pods from the Secret, never through the StatefulSet.
    expect(mediaEnv.find((e) => e.name === 'REDIS_URL')?.value).toBe(
      `redis://:$(REDIS_PASSWORD)@${FULL}-redis.${NS}.svc:6379`,
    );
    expect(mediaEnv.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: `${FULL}-secrets`,
      key: 'redis-password',
    });
    const secrets = await core.readNamespacedSecret({ name: `${FULL}-secrets`, namespace: NS });
    const password = Buffer.from(secrets.data!['redis-password']!, 'base64').toString();
    expect(password.length).toBeGreaterThan(8);
    expect(JSON.stringify(sts)).not.toContain(password);
    const lease = JSON.parse(
      await kubectl(['get', 'lease', `${FULL}-operator`, '-n', NS, '-o', 'json']),
    ) as { spec: { holderIdentity: string } };
    expect(lease.spec.holderIdentity).toBe('helm-test-operator');
    // Status written with the ServiceAccount's rights too.
    await waitFor(
      async () => {
        const r = (await custom.getNamespacedCustomObject({
          group: 'amphi.dev',
          version: 'v1alpha1',
          plural: 'mediaregions',
          namespace: NS,
          name: 'eu',
        })) as { status?: { observedGeneration?: number } };
        return r.status?.observedGeneration !== undefined ? r : undefined;
      },
      { what: 'MediaRegion eu status', timeoutMs: 30_000, abortIf: () => op.exitReason() },
    );
    const forbidden = op.logTail(10_000).match(/forbidden[^\n]{0,200}/gi) ?? [];
    expect(forbidden).toEqual([]);
    await op.stop(10_000);
  }, 120_000);

  test('the control API, run from source with the chart’s ServiceAccount, env and Secrets, passes the helm test hook and creates rooms', async () => {
    const deployment = await apps.readNamespacedDeployment({
      name: `${FULL}-control-api`,
      namespace: NS,
    });
    const container = deployment.spec!.template.spec!.containers[0]!;
    const env = await containerEnv(container, NS);
    // The Service → named container port → PORT chain the hook's URL relies on.
    const service = await core.readNamespacedService({
      name: `${FULL}-control-api`,
      namespace: NS,
    });
    const servicePort = service.spec!.ports![0]!;
    const containerPort = container.ports!.find((p) => p.name === servicePort.targetPort)!;
    expect(Number(env.PORT)).toBe(containerPort.containerPort);

    // This process reaches the test Redis, not the in-cluster one, and runs without Cassandra.
    const port = await freePort();
    delete env.CASSANDRA_CONTACT_POINTS;
    const api = new ManagedProcess({
      name: `helm-control-api-${port}`,
      command: process.execPath,
      args: ['--import', 'tsx', 'control-api/src/main.ts'],
      cwd: repoRoot,
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        REDIS_URL: redis.url,
        KUBECONFIG: await serviceAccountKubeconfig(`${FULL}-control-api`, NS),
      },
    });
    fromSource.push(api);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
      { what: 'the control API to answer', timeoutMs: 60_000, abortIf: () => api.exitReason() },
    );

    // The helm test hook, as stored in the release, run here against that API.
    const hook = docs(await helm(['get', 'hooks', RELEASE, '-n', NS])).find(
      (d) => d.metadata.annotations?.['helm.sh/hook'] === 'test',
    ) as unknown as { kind: string; spec: { containers: { command: string[] }[] } };
    expect(hook.kind).toBe('Pod');
    const inCluster = `http://${FULL}-control-api.${NS}.svc:${servicePort.port}`;
    const command = hook.spec.containers[0]!.command.map((a) =>
      a.replace(inCluster, `http://127.0.0.1:${port}`),
    );
    expect(command.join(' ')).toContain(`http://127.0.0.1:${port}/`);
    const { stdout } = await run(command[0]!, command.slice(1));
    expect(JSON.parse(stdout)).toMatchObject({ status: 'ok' });

    // A room created with a token signed by the chart's key lands in the namespace (the Role).
    const token = await new SignJWT({ name: 'Helm Host' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('helm-host')
      .setIssuer(env.AUTH_JWT_ISSUER!)
      .setAudience(env.AUTH_JWT_AUDIENCE!)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(env.AUTH_JWT_SECRET!));
    const created = await fetch(`http://127.0.0.1:${port}/v1/rooms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'helm-room', title: 'Helm room' }),
    });
    expect(created.status).toBe(201);
    await custom.getNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      plural: 'audiorooms',
      namespace: NS,
      name: 'helm-room',
    });
    await kubectl(['delete', 'audioroom', 'helm-room', '-n', NS]);

    // With the API gone the same hook fails, so `helm test` would report it.
    await api.stop(10_000);
    await expect(run(command[0]!, command.slice(1))).rejects.toThrow();
  }, 120_000);

  test('helm upgrade rolls changed values: replicas, image tag, region spec', async () => {
    await timed('upgrade', () =>
      helm([
        'upgrade',
        RELEASE,
        CHART,
        '-n',
        NS,
        ...REGION_SET,
        '--set',
        'regions[0].maxReplicas=4',
        '--set',
        'operator.replicas=3',
        '--set',
        'operator.image.tag=0.2.0',
      ]),
    );
    const d = await apps.readNamespacedDeployment({ name: `${FULL}-operator`, namespace: NS });
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('amphi/operator:0.2.0');
    await waitFor(
      async () => {
        const { items } = await core.listNamespacedPod({
          namespace: NS,
          labelSelector: 'app.kubernetes.io/component=operator',
        });
        const fresh = items.filter(
          (p) =>
            p.status?.phase === 'Running' &&
            !p.metadata?.deletionTimestamp &&
            p.spec?.containers[0]?.image === 'amphi/operator:0.2.0',
        );
        return fresh.length === 3 && items.length === 3 ? items : undefined;
      },
      {
        what: 'three Running operator pods on the new image',
        timeoutMs: 120_000,
        abortIf: kube.failure,
      },
    );
    const region = (await custom.getNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      plural: 'mediaregions',
      namespace: NS,
      name: 'eu',
    })) as Obj;
    expect(region.spec?.maxReplicas).toBe(4);
    // Adopted as an ordinary release object now that the CRD is known (no hook annotation).
    expect(region.metadata.annotations?.['helm.sh/hook']).toBeUndefined();
    // The generated secrets survive the upgrade (lookup), so tokens stay valid.
    const secret = await core.readNamespacedSecret({ name: `${FULL}-secrets`, namespace: NS });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual([
      'auth-jwt-secret',
      'join-token-secret',
      'redis-password',
    ]);
  }, 180_000);

  test('invalid values fail at install time naming the field', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'operator.replicas=0'], /\/operator\/replicas/],
      [['--set', 'operator.logLevel=loud'], /\/operator\/logLevel/],
      [['--set', 'redis.enabled=false'], /\/redis\/external/],
      [['--set', 'controlApi.auth.mode=ldap'], /\/controlApi\/auth\/mode/],
      [
        [
          '--set',
          'regions[0].name=eu',
          '--set',
          'regions[0].region=eu-west',
          '--set',
          'regions[0].addresses.policy=Bogus',
        ],
        /\/regions\/0\/addresses\/policy/,
      ],
      [
        [
          '--set',
          'regions[0].name=eu',
          '--set',
          'regions[0].region=x',
          '--set',
          'regions[0].minReplicas=5',
          '--set',
          'regions[0].maxReplicas=2',
        ],
        /regions\[0\]\.minReplicas must not exceed regions\[0\]\.maxReplicas/,
      ],
    ];
    for (const [values, field] of cases) {
      const err = await failure(
        helm(['install', 'bad', CHART, '-n', 'bad', '--create-namespace', ...values]),
      );
      expect(err).toMatch(field);
    }
    const releases = JSON.parse(await helm(['list', '-A', '-o', 'json'])) as { name: string }[];
    expect(releases.map((r) => r.name)).toEqual([RELEASE]);
  }, 60_000);

  test('helm uninstall removes everything but the CRDs', async () => {
    await timed('uninstall', () => helm(['uninstall', RELEASE, '-n', NS, '--wait']));
    const left = JSON.parse(
      await kubectl([
        'get',
        'deploy,sts,svc,secret,sa,role,rolebinding,pdb,hpa,cm,mediaregions',
        '-n',
        NS,
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
        '-o',
        'json',
      ]),
    ) as { items: Obj[] };
    expect(left.items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([]);
    const cluster = await kubectl(['get', 'clusterrole,clusterrolebinding', '-o', 'name']);
    expect(cluster).not.toContain(`${FULL}-operator`);
    await waitFor(
      async () => {
        const { items } = await apps.listNamespacedStatefulSet({ namespace: NS });
        return items.length === 0 ? true : undefined;
      },
      {
        what: 'the region’s StatefulSet to be garbage-collected',
        timeoutMs: 60_000,
        abortIf: kube.failure,
      },
    );
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    expect(crds).toContain('mediaregions.amphi.dev');
    expect(crds).toContain('audiorooms.amphi.dev');
  }, 120_000);

  test('install then uninstall with no upgrade between: the first install’s region goes too', async () => {
    // Without the CRDs the chart creates them, so the region is the first install's post-install
    // hook, which Helm itself never deletes (the chart's pre-delete placeholder does).
    const release = 'amphi-second'; // contains the chart name → fullname is the release name
    const ns = 'amphi-second';
    await kubectl([
      'delete',
      'crd',
      'mediaregions.amphi.dev',
      'audiorooms.amphi.dev',
      '--ignore-not-found',
    ]);
    // This release uses asymmetric join tokens (the first one HS256): the media pods it gets
    // reference only the public key.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: JOIN_KEYS },
        stringData: {
          'private.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          'public.pem': publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      },
    });
    await helm([
      'install',
      release,
      CHART,
      '-n',
      ns,
      '--create-namespace',
      ...REGION_SET,
      ...KEY_PAIR_SET,
    ]);
    const generated = await core.readNamespacedSecret({
      name: `${release}-secrets`,
      namespace: ns,
    });
    expect(Object.keys(generated.data ?? {})).not.toContain('join-token-secret');
    const region = (await custom.getNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      plural: 'mediaregions',
      namespace: ns,
      name: 'eu',
    })) as Obj;
    expect(region.metadata.annotations?.['helm.sh/hook']).toContain('post-install');
    const op = await operatorFromSource(release, ns);
    const sts = await waitFor(
      async () => {
        const { items } = await apps.listNamespacedStatefulSet({ namespace: ns });
        return items.find((s) => s.metadata?.name === 'eu-media');
      },
      {
        what: 'the operator to create StatefulSet eu-media',
        timeoutMs: 60_000,
        abortIf: () => op.exitReason() ?? kube.failure(),
      },
    );
    // The media pods get the public key from the key pair's Secret, and no HS256 secret.
    const mediaEnv = sts.spec?.template.spec?.containers[0]?.env ?? [];
    expect(mediaEnv.filter((e) => e.name.startsWith('JOIN_TOKEN_') && e.valueFrom)).toEqual([
      {
        name: 'JOIN_TOKEN_PUBLIC_KEY',
        valueFrom: { secretKeyRef: { name: JOIN_KEYS, key: 'public.pem' } },
      },
    ]);
    // Only the public key is configured: no warning that the pods lack a join-token key.
    expect(op.logTail(10_000)).not.toContain('will not start');

    await timed('uninstall-first-install', () => helm(['uninstall', release, '-n', ns, '--wait']));
    const regions = await custom.listNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      plural: 'mediaregions',
      namespace: ns,
    });
    expect((regions as { items: Obj[] }).items).toEqual([]);
    await waitFor(
      async () => {
        const [sts, svc] = await Promise.all([
          apps.listNamespacedStatefulSet({ namespace: ns }),
          core.listNamespacedService({ namespace: ns }),
        ]);
        return sts.items.length + svc.items.length === 0 ? true : undefined;
      },
      {
        what: 'the region’s StatefulSet and Service to be garbage-collected',
        timeoutMs: 60_000,
        abortIf: kube.failure,
      },
    );
    // The placeholder was never reconciled: one StatefulSet was ever created, the real region's.
    const created = await waitFor(
      async () => {
        const { items } = await kube.kubeConfig
          .makeApiClient(EventsV1Api)
          .listNamespacedEvent({ namespace: ns });
        const found = items.filter(
          (e) => e.reason === 'Created' && e.regarding?.kind === 'MediaRegion',
        );
        return found.length > 0 ? found : undefined;
      },
      { what: 'the Created event of region eu', timeoutMs: 10_000 },
    );
    expect(created).toHaveLength(1);
    await op.stop(10_000);
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    expect(crds).toContain('mediaregions.amphi.dev');
  }, 180_000);
});
