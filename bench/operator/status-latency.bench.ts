// Benchmark of the operator against a real kube-apiserver: 1,000 AudioRooms created in a burst,
// time from each CR's appearance (the watch's ADDED event: what the operator can see; the create
// response is also reported, it includes the bench's own client-side queueing) to its
// status.phase Scheduled (p50/p99, seen by the same watch), and Kubernetes API requests per room
// (the apiserver's apiserver_request_total, before/after). The operator runs as its own process
// (operator/src/main.ts); media pods are heartbeats in Redis. Each write mode gets a fresh operator
// watching its own namespace (AMPHI_NAMESPACE), in the same apiserver, one after the other:
// 'serial' is the previous behaviour (AMPHI_AUDIOROOM_WRITES=serial), 'pipelined' the new one.
//
//   npx tsx bench/operator/status-latency.bench.ts [rooms] [--mode=both|serial|pipelined]
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  Watch,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import type { NodeHeartbeat } from '../../common/src/contract/heartbeat.js';
import { startKubernetes } from '../../test/env/kube.js';
import { ManagedProcess } from '../../test/env/managed-process.js';
import { repoRoot } from '../../test/env/paths.js';
import { freePort } from '../../test/env/ports.js';
import { startRedis } from '../../test/env/redis.js';
import { kubectlBin } from '../../test/env/tools.js';
import { waitFor } from '../../test/env/wait.js';

const args = process.argv.slice(2);
const ROOMS = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
const MODE = args.find((a) => a.startsWith('--mode='))?.slice('--mode='.length) ?? 'both';
const MODES = (MODE === 'both' ? ['serial', 'pipelined'] : [MODE]) as Array<'serial' | 'pipelined'>;
const CREATE_CONCURRENCY = 50;
const RES = { group: 'amphi.dev', version: 'v1alpha1' } as const;
const run = promisify(execFile);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sum of apiserver_request_total by verb for one resource. */
async function requestCounts(kubeconfig: string, resource: string): Promise<Map<string, number>> {
  const { stdout } = await run(
    kubectlBin(),
    ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{') || !line.includes(`resource="${resource}"`))
      continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '?';
    const sub = /subresource="([a-z]*)"/.exec(line)?.[1] ?? '';
    const key = sub ? `${verb} ${sub}` : verb;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

interface PhaseResult {
  mode: string;
  burstMs: number;
  allMs: number;
  scheduled: number;
  fromAdded: number[];
  fromCreated: number[];
  requestsPerRoom: number;
  byVerb: string[];
  passes: string;
}

/** Pass count and mean duration from the operator's /metrics. */
async function passSummary(port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const count = num(/^amphi_operator_pass_duration_seconds_count (\S+)$/m);
  const sum = num(/^amphi_operator_pass_duration_seconds_sum (\S+)$/m);
  return `${count} passes, mean ${((sum / count) * 1000).toFixed(1)} ms`;
}

function report(r: PhaseResult): void {
  const a = r.fromAdded;
  const c = r.fromCreated;
  console.info(`  [${r.mode}]`);
  console.info(`    burst of creates took        ${r.burstMs.toFixed(0)} ms`);
  console.info(
    `    all rooms Scheduled after    ${r.allMs.toFixed(0)} ms (${r.scheduled}/${ROOMS})`,
  );
  console.info(
    `    ADDED → phase Scheduled      p50 ${pct(a, 50).toFixed(0)} ms, p99 ${pct(a, 99).toFixed(0)} ms, max ${a.at(-1)?.toFixed(0)} ms`,
  );
  console.info(
    `    create → phase Scheduled     p50 ${pct(c, 50).toFixed(0)} ms, p99 ${pct(c, 99).toFixed(0)} ms, max ${c.at(-1)?.toFixed(0)} ms`,
  );
  console.info(
    `    API requests on audiorooms   ${r.requestsPerRoom.toFixed(2)} per room (${r.byVerb.join(', ')})`,
  );
  console.info(`    operator                     ${r.passes}`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const [kube, redisServer] = await Promise.all([startKubernetes({ nodes: [] }), startRedis()]);
  const redis = new Redis(redisServer.url);
  const pods: NodeJS.Timeout[] = [];
  let operator: ManagedProcess | undefined;
  try {
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    for (const name of ['amphi-system', ...MODES.map((m) => `bench-${m}`)])
      await core.createNamespace({ body: { metadata: { name } } });
    const objects = KubernetesObjectApi.makeApiClient(kube.kubeConfig);
    for (const file of readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(repoRoot, 'crds', file), 'utf8'))) {
        await objects.create(doc.toJS() as KubernetesObject);
      }
    }
    for (const mode of MODES) {
      await waitFor(
        () =>
          custom.createNamespacedCustomObject({
            ...RES,
            plural: 'mediaregions',
            namespace: `bench-${mode}`,
            body: {
              apiVersion: 'amphi.dev/v1alpha1',
              kind: 'MediaRegion',
              metadata: { name: 'eu-west' },
              spec: {
                region: 'eu-west',
                mediaPod: { image: 'x', workersPerPod: 4, basePort: 40000 },
                addresses: { policy: 'NodeExternalIP' },
                drain: { deadlineSeconds: 60 },
                capacity: {
                  listenersPerWorker: 100000,
                  targetUtilizationPercent: 70,
                  highWatermarkPercent: 80,
                  lowWatermarkPercent: 30,
                },
                minReplicas: 0,
                maxReplicas: 10,
              },
            },
          }),
        { what: 'MediaRegion CRD', timeoutMs: 60_000, intervalMs: 200 },
      );
    }
    // Eight media pods of four workers, beating every second (no shards realised: rooms stay Scheduled).
    const registry = new NodeRegistry(redis);
    for (let i = 0; i < 8; i++) {
      const hb = (): NodeHeartbeat => ({
        node: `eu-west-${i}`,
        region: 'eu-west',
        zone: `eu-west-${'abc'[i % 3]}`,
        k8sNode: `node-${i}`,
        announcedAddress: '127.0.0.1',
        signalingUrl: 'ws://x',
        pipeUrl: 'http://x',
        draining: false,
        startedAt: t0,
        sentAt: Date.now(),
        seq: 0,
        workers: [0, 1, 2, 3].map((index) => ({
          index,
          alive: true,
          port: 40000 + index,
          consumers: 0,
          producers: 0,
          routers: 0,
          cpuPercent: 0,
        })),
        shards: [],
      });
      await registry.beat(hb());
      pods.push(setInterval(() => void registry.beat(hb()), 1000));
    }
    const runPhase = async (mode: 'serial' | 'pipelined'): Promise<PhaseResult> => {
      const NS = `bench-${mode}`;
      const port = await freePort();
      operator = new ManagedProcess({
        name: `bench-operator-${port}`,
        command: process.execPath,
        args: ['--import', 'tsx', 'operator/src/main.ts'],
        cwd: repoRoot,
        env: {
          ...process.env,
          KUBECONFIG: kube.kubeconfigPath,
          REDIS_URL: redisServer.url,
          AMPHI_LEASE_NAMESPACE: 'amphi-system',
          AMPHI_HEALTH_PORT: String(port),
          LOG_LEVEL: 'warn',
          AMPHI_NAMESPACE: NS,
          AMPHI_AUDIOROOM_WRITES: mode,
        },
      });
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/readyz`)).ok &&
          (await fetch(`http://127.0.0.1:${port}/metrics`))
            .text()
            .then((t) => /leader_election_master_status\{name="amphi-operator"\} 1/.test(t)),
        {
          what: 'the operator to lead',
          timeoutMs: 60_000,
          intervalMs: 200,
          abortIf: () => operator?.exitReason(),
        },
      );
      await new Promise((r) => setTimeout(r, 2000)); // informers synced, first pass done

      const created = new Map<string, number>();
      const added = new Map<string, number>();
      const scheduled = new Map<string, number>();
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      type Obj = { metadata: { name: string }; status?: { phase?: string } };
      const see = (obj: Obj): void => {
        if (!added.has(obj.metadata.name)) added.set(obj.metadata.name, performance.now());
        const phase = obj.status?.phase;
        if ((phase === 'Scheduled' || phase === 'Live') && !scheduled.has(obj.metadata.name)) {
          scheduled.set(obj.metadata.name, performance.now());
          if (scheduled.size === ROOMS) done();
        }
      };
      // A watch that the apiserver or client ends is resumed from a fresh list (seen then).
      let watching = true;
      let current: { abort(): void } | undefined;
      const startWatch = async (): Promise<void> => {
        if (!watching) return;
        const list = (await custom.listNamespacedCustomObject({
          ...RES,
          plural: 'audiorooms',
          namespace: NS,
        })) as { items: Obj[]; metadata: { resourceVersion: string } };
        list.items.forEach(see);
        current = await new Watch(kube.kubeConfig).watch(
          `/apis/amphi.dev/v1alpha1/namespaces/${NS}/audiorooms`,
          { resourceVersion: list.metadata.resourceVersion },
          (_type: string, obj: Obj) => see(obj),
          () => void startWatch().catch(() => setTimeout(() => void startWatch(), 200)),
        );
      };
      await startWatch();
      const watch = {
        abort: () => {
          watching = false;
          current?.abort();
        },
      };
      const before = await requestCounts(kube.kubeconfigPath, 'audiorooms');
      const burst0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CREATE_CONCURRENCY }, async () => {
          while (next < ROOMS) {
            const name = `room-${String(next++).padStart(5, '0')}`;
            await custom.createNamespacedCustomObject({
              ...RES,
              plural: 'audiorooms',
              namespace: NS,
              body: {
                apiVersion: 'amphi.dev/v1alpha1',
                kind: 'AudioRoom',
                metadata: { name },
                spec: {
                  title: name,
                  regions: ['eu-west'],
                  sharding: { listenersPerShard: 500, maxShards: 10 },
                  speakerLimit: 4,
                },
              },
            });
            created.set(name, performance.now());
          }
        }),
      );
      const burstMs = performance.now() - burst0;
      await Promise.race([all, new Promise((r) => setTimeout(r, 120_000))]);
      const allMs = performance.now() - burst0;
      await new Promise((r) => setTimeout(r, 3000)); // let trailing requests land
      watch.abort();
      const after = await requestCounts(kube.kubeconfigPath, 'audiorooms');

      const since = (from: Map<string, number>): number[] =>
        [...from]
          .map(([name, t]) => (scheduled.get(name) ?? NaN) - t)
          .filter(Number.isFinite)
          .sort((a, b) => a - b);
      let operatorRequests = 0;
      const byVerb: string[] = [];
      for (const [key, n] of after) {
        const d = n - (before.get(key) ?? 0);
        // The benchmark's own creates and its watch are not the operator's.
        const mine = key === 'POST' ? ROOMS : key === 'WATCH' ? 1 : 0;
        if (d - mine > 0) {
          operatorRequests += d - mine;
          byVerb.push(`${key} ${d - mine}`);
        }
      }
      const passes = await passSummary(port);
      await operator.stop(10_000);
      operator = undefined;
      return {
        mode,
        burstMs,
        allMs,
        scheduled: scheduled.size,
        fromAdded: since(added),
        fromCreated: since(created),
        requestsPerRoom: operatorRequests / ROOMS,
        byVerb,
        passes,
      };
    };
    const results: PhaseResult[] = [];
    for (const mode of MODES) results.push(await runPhase(mode));
    console.info(
      `operator status latency, ${ROOMS} AudioRooms created in a burst (${CREATE_CONCURRENCY} at a time)`,
    );
    for (const r of results) report(r);
    const [base, next] = results;
    if (base && next) {
      const ratio = (p: number, of: (r: PhaseResult) => number[]): string =>
        (pct(of(base), p) / pct(of(next), p)).toFixed(1);
      console.info(
        `  ${base.mode} / ${next.mode}: ADDED→Scheduled p50 ${ratio(50, (r) => r.fromAdded)}x, p99 ${ratio(99, (r) => r.fromAdded)}x; create→Scheduled p50 ${ratio(50, (r) => r.fromCreated)}x, p99 ${ratio(99, (r) => r.fromCreated)}x; requests per room ${base.requestsPerRoom.toFixed(2)} → ${next.requestsPerRoom.toFixed(2)}`,
      );
    }
  } finally {
    for (const t of pods) clearInterval(t);
    await operator?.stop(10_000);
    redis.disconnect();
    await redisServer.stop();
    await kube.stop();
  }
}

await main();
