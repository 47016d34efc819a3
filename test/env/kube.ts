// A real Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (fake nodes and pod lifecycle), all on the loopback with free ports.
// Binaries come from test/env/provision/kubernetes.sh; certificates are made per run.
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';
import { kubernetesBinaries } from './kube/binaries.js';
import { generateCertificates } from './kube/certs.js';
import {
  startApiServer,
  startControllerManager,
  startEtcd,
  startKwok,
  startScheduler,
  type ComponentContext,
} from './kube/components.js';
import { writeKubeconfig } from './kube/kubeconfig.js';
import { createNodes, DEFAULT_NODES, type FakeNodeSpec } from './kube/nodes.js';

export { DEFAULT_NODES, REGION_LABEL, ZONE_LABEL, type FakeNodeSpec } from './kube/nodes.js';

export type ComponentName =
  'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';

export interface StartKubernetesOptions {
  /** Fake Nodes to create and wait Ready; default: DEFAULT_NODES (2 regions × 2 zones). */
  nodes?: readonly FakeNodeSpec[];
  /** Upper bound for each component (and the nodes) to become ready. Default 120 s. */
  readyTimeoutMs?: number;
  /** Keep the run directory (data, certificates, logs) after stop(), for post-mortems. */
  keepDir?: boolean;
}

export interface KubernetesHandle {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Admin kubeconfig (system:masters) for clients, kubectl and helm. */
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** Run directory: etcd data, certificates, kubeconfig, logs/<component>.log. */
  readonly dir: string;
  readonly nodes: readonly V1Node[];
  /** The running components, e.g. to kill one in a failure test. */
  readonly components: Readonly<Record<ComponentName, ManagedProcess>>;
  /** First exit among the components, if any (for `waitFor({ abortIf })`). */
  failure(): string | undefined;
  /** Creates more fake Nodes and waits until they are Ready. */
  addNodes(nodes: readonly FakeNodeSpec[]): Promise<V1Node[]>;
  /** Stops every component in reverse start order and removes the run directory. */
  stop(): Promise<void>;
}

export async function startKubernetes(
  options: StartKubernetesOptions = {},
): Promise<KubernetesHandle> {
  const bins = kubernetesBinaries(); // NotProvisionedError before anything starts
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const dir = mkdtempSync(join(tmpdir(), 'amphi-kube-'));
  const started: ManagedProcess[] = [];
  const components: Partial<Record<ComponentName, ManagedProcess>> = {};
  let stopped = false;

  const failure = (): string | undefined => {
    for (const proc of started) {
      const reason = proc.exitReason();
      if (reason) return reason;
    }
    return undefined;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const proc of [...started].reverse()) await proc.stop(5_000);
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const add = (name: ComponentName, proc: ManagedProcess): void => {
    started.push(proc);
    components[name] = proc;
  };

  try {
    const certDir = join(dir, 'pki');
    mkdirSync(certDir, { mode: 0o700 });
    const certs = await generateCertificates(certDir);
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await distinctPorts(6);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, server, certs);
    const ctx: ComponentContext = {
      dir,
      logDir: join(dir, 'logs'),
      bins,
      certs,
      kubeconfigPath,
      readyTimeoutMs,
    };

    add('etcd', await startEtcd(ctx, { client: etcdClient, peer: etcdPeer }));
    add('kube-apiserver', await startApiServer(ctx, { etcd: etcdClient, secure: apiPort }));
    // The controller manager, the scheduler and kwok only need the API server: start them together.
    const [kcm, scheduler, kwok] = await Promise.allSettled([
      startControllerManager(ctx, { secure: kcmPort }),
      startScheduler(ctx, { secure: schedPort }),
      startKwok(ctx, { server: kwokPort }),
    ]);
    for (const [name, result] of [
      ['kube-controller-manager', kcm],
      ['kube-scheduler', scheduler],
      ['kwok', kwok],
    ] as const) {
      if (result.status === 'fulfilled') add(name, result.value);
    }
    for (const result of [kcm, scheduler, kwok]) {
      if (result.status === 'rejected') throw result.reason;
    }

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const nodes = await createNodes(kubeConfig, options.nodes ?? DEFAULT_NODES, {
      timeoutMs: readyTimeoutMs,
      abortIf: failure,
    });
    // The service-account controller (controller manager) is running once `default` exists.
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await waitFor(
      () => core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }),
      { what: 'the default ServiceAccount', timeoutMs: readyTimeoutMs, abortIf: failure },
    );

    return {
      server,
      kubeconfigPath,
      kubeConfig,
      dir,
      nodes,
      components: components as Record<ComponentName, ManagedProcess>,
      failure,
      addNodes: (more) =>
        createNodes(kubeConfig, more, { timeoutMs: readyTimeoutMs, abortIf: failure }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

type Six = [number, number, number, number, number, number];

/** `n` distinct free loopback ports. */
async function distinctPorts(n: 6): Promise<Six> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports] as Six;
}
