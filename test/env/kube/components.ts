// Starting each real control-plane component: its flags, its readiness probe, fail-fast on exit.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../managed-process.js';
import { waitFor } from '../wait.js';
import type { ComponentBinary } from './binaries.js';
import type { Certificates } from './certs.js';
import { healthy } from './probe.js';

export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.1/16';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ComponentContext {
  /** The run's temp directory (data, certificates, kubeconfig). */
  dir: string;
  logDir: string;
  bins: Readonly<Record<ComponentBinary, string>>;
  certs: Certificates;
  kubeconfigPath: string;
  /** Upper bound for each component to become ready. */
  readyTimeoutMs: number;
}

function spawn(ctx: ComponentContext, name: ComponentBinary, args: string[]): ManagedProcess {
  const env = { ...process.env };
  // The components must only ever see the test cluster.
  delete env.KUBECONFIG;
  env.HOME = ctx.dir;
  return new ManagedProcess({
    name,
    command: ctx.bins[name],
    args,
    env,
    cwd: ctx.dir,
    logDir: ctx.logDir,
  });
}

async function ready(
  ctx: ComponentContext,
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
): Promise<ManagedProcess> {
  try {
    await waitFor(probe, {
      what,
      timeoutMs: ctx.readyTimeoutMs,
      intervalMs: 200,
      abortIf: () => proc.exitReason(),
    });
  } catch (error) {
    // A timeout (not an exit, whose reason carries the log tail already): show what it logged.
    if (proc.running && error instanceof Error) {
      error.message += `\n${proc.name} log tail:\n${proc.logTail()}`;
    }
    await proc.stop(2_000);
    throw error;
  }
  return proc;
}

export async function startEtcd(
  ctx: ComponentContext,
  ports: { client: number; peer: number },
): Promise<ManagedProcess> {
  const client = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  const dataDir = join(ctx.dir, 'etcd');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const proc = spawn(ctx, 'etcd', [
    '--name=amphi',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=amphi=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync',
    '--snapshot-count=10000',
    '--log-level=warn',
  ]);
  return ready(ctx, proc, `etcd on ${client}`, () =>
    healthy(`${client}/health`, {}, '"health":"true"'),
  );
}

export async function startApiServer(
  ctx: ComponentContext,
  ports: { etcd: number; secure: number },
): Promise<ManagedProcess> {
  const { certs } = ctx;
  const proc = spawn(ctx, 'kube-apiserver', [
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    '--etcd-prefix=/registry',
    '--allow-privileged=true',
    '--authorization-mode=Node,RBAC',
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.secure}`,
    `--cert-dir=${join(ctx.dir, 'apiserver')}`,
    `--tls-cert-file=${certs.certFile}`,
    `--tls-private-key-file=${certs.keyFile}`,
    `--client-ca-file=${certs.caCertFile}`,
    `--service-account-key-file=${certs.publicKeyFile}`,
    `--service-account-signing-key-file=${certs.keyFile}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    // One loopback API server: no endpoint for the in-cluster `kubernetes` Service to maintain.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ]);
  const url = `https://127.0.0.1:${ports.secure}/readyz`;
  const tls = { ca: certs.caCert, cert: certs.cert, key: certs.key };
  return ready(ctx, proc, `kube-apiserver ${url}`, () => healthy(url, tls, 'ok'));
}

/** Options shared by the controller manager and the scheduler. */
function clientFlags(ctx: ComponentContext, name: ComponentBinary, securePort: number): string[] {
  return [
    `--kubeconfig=${ctx.kubeconfigPath}`,
    `--authentication-kubeconfig=${ctx.kubeconfigPath}`,
    `--authorization-kubeconfig=${ctx.kubeconfigPath}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${securePort}`,
    // Where it writes the self-signed certificate of its own health/metrics endpoint.
    `--cert-dir=${join(ctx.dir, 'pki', name)}`,
  ];
}

export async function startControllerManager(
  ctx: ComponentContext,
  ports: { secure: number },
): Promise<ManagedProcess> {
  const proc = spawn(ctx, 'kube-controller-manager', [
    ...clientFlags(ctx, 'kube-controller-manager', ports.secure),
    `--root-ca-file=${ctx.certs.caCertFile}`,
    `--service-account-private-key-file=${ctx.certs.keyFile}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    // kwok renews node leases; a long grace keeps a busy machine from marking nodes NotReady.
    '--node-monitor-grace-period=1h',
    '--node-monitor-period=10m',
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    '--profiling=false',
  ]);
  const url = `https://127.0.0.1:${ports.secure}/healthz`;
  return ready(ctx, proc, `kube-controller-manager ${url}`, () =>
    healthy(url, { insecure: true }, 'ok'),
  );
}

export async function startScheduler(
  ctx: ComponentContext,
  ports: { secure: number },
): Promise<ManagedProcess> {
  const proc = spawn(ctx, 'kube-scheduler', [
    ...clientFlags(ctx, 'kube-scheduler', ports.secure),
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    '--profiling=false',
  ]);
  const url = `https://127.0.0.1:${ports.secure}/healthz`;
  return ready(ctx, proc, `kube-scheduler ${url}`, () => healthy(url, { insecure: true }, 'ok'));
}

/** Annotation that puts a Node under this kwok's management. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';

export async function startKwok(
  ctx: ComponentContext,
  ports: { server: number },
): Promise<ManagedProcess> {
  const proc = spawn(ctx, 'kwok', [
    `--kubeconfig=${ctx.kubeconfigPath}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
    '--node-lease-duration-seconds=40',
    `--server-address=127.0.0.1:${ports.server}`,
    `--cidr=${POD_CIDR}`,
    '--node-ip=10.244.0.1',
  ]);
  const url = `http://127.0.0.1:${ports.server}/healthz`;
  return ready(ctx, proc, `kwok ${url}`, () => healthy(url));
}
