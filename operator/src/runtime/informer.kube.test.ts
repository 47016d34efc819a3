// The informer against a real kube-apiserver (the test bed's control plane): it sees add, update
// and delete, and recovers when its connection is cut — a TCP proxy between it and the API
// server drops every connection and refuses new ones for a while, as a network blip would.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { startKubernetes, type KubernetesHandle } from '../../../test/env/kube.js';
import { waitFor } from '../../../test/env/wait.js';
import { Informer } from './informer.js';
import { kubeListWatch } from './kube-source.js';

const NS = 'informer-test';

/** A TCP pass-through that can cut every connection and refuse new ones. */
class CuttableProxy {
  readonly #sockets = new Set<Socket>();
  #refusing = false;
  #server: Server | undefined;

  async start(target: URL): Promise<number> {
    this.#server = createServer((client) => {
      if (this.#refusing) return void client.destroy();
      const upstream = createConnection(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return (this.#server!.address() as AddressInfo).port;
  }

  /** Cuts every open connection; with refuse, new ones are closed at once until restore(). */
  cut(refuse: boolean): void {
    this.#refusing = refuse;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#refusing = false;
  }

  async stop(): Promise<void> {
    this.cut(true);
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

describe('Informer against a real API server', () => {
  let kube: KubernetesHandle;
  let core: CoreV1Api;
  const proxy = new CuttableProxy();
  let viaProxy: KubeConfig;

  beforeAll(async () => {
    kube = await startKubernetes({ nodes: [] });
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const port = await proxy.start(new URL(kube.server));
    const kc = kube.kubeConfig;
    viaProxy = new KubeConfig();
    viaProxy.loadFromOptions({
      clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
  }, 300_000);

  afterAll(async () => {
    await proxy.stop();
    await kube?.stop();
  }, 60_000);

  const cm = (name: string, value: string): V1ConfigMap => ({
    metadata: { name, namespace: NS, labels: { test: 'informer' } },
    data: { value },
  });

  it('caches, notifies, and resumes after the connection is cut', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('a', '1') });
    const log: string[] = [];
    const proxied = viaProxy.makeApiClient(CoreV1Api);
    const informer = new Informer<V1ConfigMap>({
      name: 'configmaps',
      // The selector keeps out kube-root-ca.crt (and the other test's objects).
      source: kubeListWatch(
        viaProxy,
        `/api/v1/namespaces/${NS}/configmaps`,
        () => proxied.listNamespacedConfigMap({ namespace: NS, labelSelector: 'test=informer' }),
        { labelSelector: 'test=informer' },
      ),
      backoffInitialMs: 200,
      backoffMaxMs: 1000,
      watchdogMs: 60_000,
      resyncPeriodMs: 0,
      logger: pino({ level: 'silent' }),
    });
    const names = (o: V1ConfigMap) => `${o.metadata?.name}=${o.data?.value ?? ''}`;
    informer.addEventHandler({
      onAdd: (o) => log.push(`add ${names(o)}`),
      onUpdate: (_old, o) => log.push(`update ${names(o)}`),
      onDelete: (o) => log.push(`delete ${o.metadata?.name}`),
    });
    const seen = (entry: string) =>
      waitFor(() => log.includes(entry), { what: `informer event "${entry}"`, timeoutMs: 20_000 });

    try {
      informer.start();
      expect(await informer.waitForSync()).toBe(true);
      expect(informer.get(`${NS}/a`)?.data).toEqual({ value: '1' });
      expect(log).toContain('add a=1');

      await core.createNamespacedConfigMap({ namespace: NS, body: cm('b', '1') });
      await seen('add b=1');
      await core.replaceNamespacedConfigMap({ name: 'b', namespace: NS, body: cm('b', '2') });
      await seen('update b=2');
      await core.deleteNamespacedConfigMap({ name: 'a', namespace: NS });
      await seen('delete a');
      expect(informer.keys().sort()).toEqual([`${NS}/b`]);

      // Cut the connection and keep the API unreachable while objects change.
      const watchesBefore = informer.stats.watches;
      proxy.cut(true);
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('c', '1') });
      await core.deleteNamespacedConfigMap({ name: 'b', namespace: NS });
      await waitFor(() => informer.stats.failures >= 1, {
        what: 'the informer to notice the cut',
        timeoutMs: 20_000,
      });
      proxy.restore();
      await seen('add c=1');
      await seen('delete b');
      expect(informer.keys().sort()).toEqual([`${NS}/c`]);
      expect(informer.stats.watches).toBeGreaterThan(watchesBefore);
      // Resumed from its resourceVersion: no relist, no duplicate notifications.
      expect(informer.stats.lists).toBe(1);
      expect(log.filter((l) => l === 'add c=1')).toHaveLength(1);

      // A cut without refusal (a dropped watch): picked up at once.
      proxy.cut(false);
      await core.replaceNamespacedConfigMap({ name: 'c', namespace: NS, body: cm('c', '2') });
      await seen('update c=2');
    } finally {
      await informer.stop();
    }
  }, 120_000);

  it('restarts a quiet watch (watchdog) and still sees later changes', async () => {
    const log: string[] = [];
    const informer = new Informer<V1ConfigMap>({
      name: 'configmaps-quiet',
      source: kubeListWatch(kube.kubeConfig, `/api/v1/namespaces/${NS}/configmaps`, () =>
        core.listNamespacedConfigMap({ namespace: NS }),
      ),
      watchdogMs: 1500,
      resyncPeriodMs: 0,
      logger: pino({ level: 'silent' }),
    });
    informer.addEventHandler({ onAdd: (o) => log.push(`add ${o.metadata?.name}`) });
    try {
      informer.start();
      await informer.waitForSync();
      await waitFor(() => informer.stats.watchdogRestarts >= 2, {
        what: 'two watchdog restarts',
        timeoutMs: 10_000,
      });
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('late', '1') });
      await waitFor(() => log.includes('add late'), { what: 'add late', timeoutMs: 10_000 });
      expect(informer.stats.lists).toBe(1);
    } finally {
      await informer.stop();
    }
  }, 60_000);
});
