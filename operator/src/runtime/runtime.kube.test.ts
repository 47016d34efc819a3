// Leader election, the event recorder and the finalizer patches against a real kube-apiserver:
// the wire details unit tests can only imitate (MicroTime format, optimistic replace, merge-patch
// content type on custom resources, resourceVersion preconditions, events.k8s.io validation).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { startKubernetes, type KubernetesHandle } from '../../../test/env/kube.js';
import { waitFor } from '../../../test/env/wait.js';
import { EventRecorder } from './events.js';
import { customObjectPatcher, ensureFinalizer, releaseFinalizer } from './finalizers.js';
import type { KubeObject } from './keys.js';
import { LeaderElector } from './leader-election.js';

const NS = 'runtime-test';
const silent = pino({ level: 'silent' });

describe('runtime pieces against a real API server', () => {
  let kube: KubernetesHandle;

  beforeAll(async () => {
    kube = await startKubernetes({ nodes: [] });
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  }, 300_000);

  afterAll(async () => {
    await kube?.stop();
  }, 60_000);

  it('elects one leader with a real Lease and hands over at once on release', async () => {
    const api = kube.kubeConfig.makeApiClient(CoordinationV1Api);
    const leading: string[] = [];
    const make = (identity: string) =>
      new LeaderElector({
        api,
        name: 'amphi-operator',
        namespace: NS,
        identity,
        leaseDurationMs: 4000,
        renewDeadlineMs: 3000,
        retryPeriodMs: 500,
        logger: silent,
        onStartedLeading: () => void leading.push(identity),
      });
    const a = make('a');
    const b = make('b');
    try {
      void a.run();
      await waitFor(() => a.isLeader(), { what: 'a to lead', timeoutMs: 10_000 });
      void b.run();
      await new Promise((r) => setTimeout(r, 1500)); // several renewals
      expect(b.isLeader()).toBe(false);
      const lease = await api.readNamespacedLease({ name: 'amphi-operator', namespace: NS });
      expect(lease.spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
      expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);

      const released = Date.now();
      await a.stop();
      await waitFor(() => b.isLeader(), { what: 'b to take over', timeoutMs: 10_000 });
      expect(Date.now() - released).toBeLessThan(2500); // a retry period or so, not a lease
      expect(leading).toEqual(['a', 'b']);
      const after = await api.readNamespacedLease({ name: 'amphi-operator', namespace: NS });
      expect(after.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 60_000);

  it('records an Event and folds repeats into its series', async () => {
    const api = kube.kubeConfig.makeApiClient(EventsV1Api);
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    const cm = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'evented' } },
    });
    const recorder = new EventRecorder({
      api,
      reportingController: 'amphi.dev/operator',
      reportingInstance: 'operator-test',
      logger: silent,
    });
    const regarding = { apiVersion: 'v1', kind: 'ConfigMap', metadata: cm.metadata! };
    for (let i = 0; i < 3; i++)
      await recorder.warning(regarding, 'Broken', 'Checking', 'still broken');
    const list = await api.listNamespacedEvent({ namespace: NS });
    const ours = list.items.filter((e) => e.regarding?.name === 'evented');
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      reason: 'Broken',
      action: 'Checking',
      type: 'Warning',
      note: 'still broken',
      reportingController: 'amphi.dev/operator',
      series: { count: 3 },
    });
  }, 30_000);

  it('adds and removes a finalizer on a custom resource with a guarded merge patch', async () => {
    const ext = kube.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.test.amphi.dev' },
        spec: {
          group: 'test.amphi.dev',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          ],
        },
      },
    });
    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    const resource = { group: 'test.amphi.dev', version: 'v1', plural: 'widgets' };
    const widget = (await waitFor(
      () =>
        custom.createNamespacedCustomObject({
          ...resource,
          namespace: NS,
          body: { apiVersion: 'test.amphi.dev/v1', kind: 'Widget', metadata: { name: 'w' } },
        }),
      { what: 'the Widget CRD to serve', timeoutMs: 20_000, intervalMs: 200 },
    )) as KubeObject;
    const patch = customObjectPatcher<KubeObject>(custom, resource);
    const F = 'amphi.dev/cleanup';

    const withF = await ensureFinalizer(patch, widget, F);
    expect(withF.metadata?.finalizers).toEqual([F]);
    // A stale copy must not overwrite a newer list: the resourceVersion precondition says 409.
    await expect(ensureFinalizer(patch, widget, 'amphi.dev/other')).rejects.toMatchObject({
      code: 409,
    });
    const without = await releaseFinalizer(patch, withF, F);
    expect(without.metadata?.finalizers ?? []).toEqual([]);
  }, 60_000);
});
