// The MediaRegion controller, wired: informers for MediaRegions and their StatefulSets, a 1 s
// poll of the node registry that enqueues the regions whose load changed, and the reconciler.
import { hostname } from 'node:os';
import {
  AppsV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { NodeRegistry } from '../../../../common/src/contract/node-registry.js';
import { GROUP, VERSION } from '../../../../common/src/crd/definitions.js';
import type { Logger } from '../../../../common/src/logger.js';
import { realClock, type Clock, type Timer } from '../../runtime/clock.js';
import { Controller } from '../../runtime/controller.js';
import { EventRecorder } from '../../runtime/events.js';
import { enqueueForObject, enqueueForOwner, generationChanged } from '../../runtime/handlers.js';
import { Informer } from '../../runtime/informer.js';
import { objectKey } from '../../runtime/keys.js';
import { kubeListWatch, type KubeList } from '../../runtime/kube-source.js';
import { podAnnotator, serverSideApplier, statusMergePatcher } from '../shared/apply.js';
import { nodeLoad, regionNodes } from './load.js';
import { mediaRegionReconciler } from './reconciler.js';
import type { MediaPodSettings } from './resources.js';
import {
  APP_NAME,
  LABEL_APP_NAME,
  MEDIA_REGION_API_VERSION,
  MEDIA_REGION_KIND,
  MEDIA_REGION_PLURAL,
  reconciliationDisabled,
  type MediaRegion,
} from './types.js';

export interface MediaRegionControllerDeps {
  kubeConfig: KubeConfig;
  registry: NodeRegistry;
  /** prom-client registry for the controller_runtime_* / workqueue_* metrics. */
  metrics: Registry;
  log: Logger;
  /** Watch one namespace; all when omitted. */
  namespace?: string;
  /** Informer resync and re-apply period. Default 60 s. */
  resyncMs?: number;
  clock?: Clock;
  /** How often the node registry is read for load changes. Default 1 s. */
  pollMs?: number;
  /** Event reportingInstance; default the host name. */
  instance?: string;
  /**
   * Platform settings of the media pods, not in the MediaRegion: REDIS_URL (value),
   * JOIN_TOKEN_PUBLIC_KEY or JOIN_TOKEN_SECRET (secretKeyRef, in the region's namespace),
   * JOIN_TOKEN_ISSUER, service account.
   */
  mediaPod?: MediaPodSettings;
}

export interface MediaRegionControllerHandle {
  controller: Controller;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous informer list
  informers: Informer<any>[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A load fingerprint: which of the region's pods beat, and their streams and draining flag. */
export function loadSignature(region: MediaRegion, nodes: readonly NodeHeartbeat[]): string {
  return [...regionNodes(region, nodes).values()]
    .map((hb) => `${hb.node}:${nodeLoad(hb)}:${hb.draining ? 1 : 0}`)
    .sort()
    .join(',');
}

export function createMediaRegionController(
  deps: MediaRegionControllerDeps,
): MediaRegionControllerHandle {
  const kc = deps.kubeConfig;
  const clock = deps.clock ?? realClock;
  const resyncMs = deps.resyncMs ?? 60_000;
  const pollMs = deps.pollMs ?? 1_000;
  const log = deps.log.child({ controller: 'mediaregion' });
  const ns = deps.namespace;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const resource = { group: GROUP, version: VERSION, plural: MEDIA_REGION_PLURAL };

  const regions = new Informer<MediaRegion>({
    name: MEDIA_REGION_PLURAL,
    source: kubeListWatch<MediaRegion>(
      kc,
      ns
        ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${MEDIA_REGION_PLURAL}`
        : `/apis/${GROUP}/${VERSION}/${MEDIA_REGION_PLURAL}`,
      () =>
        (ns
          ? custom.listNamespacedCustomObject({ ...resource, namespace: ns })
          : custom.listClusterCustomObject(resource)) as Promise<KubeList<MediaRegion>>,
    ),
    resyncPeriodMs: resyncMs,
    clock,
    logger: log,
  });
  const labelSelector = `${LABEL_APP_NAME}=${APP_NAME}`;
  const statefulSets = new Informer<V1StatefulSet>({
    name: 'statefulsets',
    source: kubeListWatch<V1StatefulSet>(
      kc,
      ns ? `/apis/apps/v1/namespaces/${ns}/statefulsets` : '/apis/apps/v1/statefulsets',
      () =>
        ns
          ? apps.listNamespacedStatefulSet({ namespace: ns, labelSelector })
          : apps.listStatefulSetForAllNamespaces({ labelSelector }),
      { labelSelector },
    ),
    resyncPeriodMs: 0,
    clock,
    logger: log,
  });

  const events = new EventRecorder({
    api: kc.makeApiClient(EventsV1Api),
    reportingController: 'amphi.dev/operator',
    reportingInstance: deps.instance ?? hostname(),
    clock,
    logger: log,
  });

  const controller = new Controller({
    name: 'mediaregion',
    registry: deps.metrics,
    logger: deps.log,
    clock,
    maxConcurrentReconciles: 2,
    reconcile: mediaRegionReconciler({
      regions,
      statefulSets,
      registry: deps.registry,
      applier: serverSideApplier(kc),
      patchStatus: statusMergePatcher(kc, resource),
      annotatePod: podAnnotator(kc),
      events,
      clock,
      resyncMs,
      ...(deps.mediaPod ? { mediaPod: deps.mediaPod } : {}),
    }),
  });
  // Spec changes bump the generation; the reconciliation annotation does not, so it counts too.
  const regionChanged = (a: MediaRegion, b: MediaRegion): boolean =>
    generationChanged(a, b) || reconciliationDisabled(a) !== reconciliationDisabled(b);
  controller.watch(regions, enqueueForObject(controller, regionChanged)).watch(
    statefulSets,
    enqueueForOwner(controller, {
      apiVersion: MEDIA_REGION_API_VERSION,
      kind: MEDIA_REGION_KIND,
    }),
  );

  // The node registry poll: enqueue a region when its pods' load or liveness changed.
  const signatures = new Map<string, string>();
  let timer: Timer | undefined;
  let stopped = false;
  let polling: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    try {
      const live = await deps.registry.live(clock.now());
      const seen = new Set<string>();
      for (const region of regions.list()) {
        const key = objectKey(region);
        seen.add(key);
        const signature = loadSignature(region, live.nodes);
        if (signatures.get(key) !== signature) {
          signatures.set(key, signature);
          controller.add(key);
        }
      }
      for (const key of [...signatures.keys()]) if (!seen.has(key)) signatures.delete(key);
    } catch (err) {
      log.warn({ err }, 'node registry poll failed');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = clock.after(pollMs, () => {
      polling = poll().finally(schedule);
    });
  };

  return {
    controller,
    informers: [regions, statefulSets],
    async start() {
      regions.start();
      statefulSets.start();
      await controller.start();
      schedule();
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      await polling;
      await controller.stop();
      await Promise.all([regions.stop(), statefulSets.stop()]);
    },
  };
}
