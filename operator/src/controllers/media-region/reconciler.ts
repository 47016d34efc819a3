// The MediaRegion reconcile: apply the owned objects, size the StatefulSet from the region's live
// load (draining the highest ordinals before removing them), and report status and events.
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1StatefulSet } from '@kubernetes/client-node';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { NodeRegistry } from '../../../../common/src/contract/node-registry.js';
import type { MediaRegionStatus } from '../../../../common/src/crd/media-region.js';
import type { Clock } from '../../runtime/clock.js';
import type { Reconciler, Result } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Applier } from '../shared/apply.js';
import { planDrain } from './drain.js';
import { desiredReplicas, nodeLoad, regionNodes } from './load.js';
import {
  buildConfigMap,
  buildPodDisruptionBudget,
  buildService,
  buildStatefulSet,
  type MediaPodSettings,
} from './resources.js';
import { buildStatus, statusChanged } from './status.js';
import {
  ANNOTATION_DRAIN_DEADLINE,
  ANNOTATION_DRAINING,
  podName,
  podOrdinal,
  reconciliationDisabled,
  stsName,
  type MediaRegion,
} from './types.js';

export interface MediaRegionReconcilerDeps {
  regions: { get(key: string): MediaRegion | undefined };
  statefulSets: { get(key: string): V1StatefulSet | undefined };
  registry: Pick<NodeRegistry, 'live' | 'requestDrain' | 'cancelDrain' | 'drainRequest'>;
  applier: Applier;
  patchStatus(namespace: string, name: string, status: object): Promise<unknown>;
  annotatePod(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<unknown>;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  clock: Clock;
  /** Re-apply unchanged objects and reconcile at least this often. */
  resyncMs: number;
  /** Platform settings of the media pods (Redis, join-token secret, service account). */
  mediaPod?: MediaPodSettings;
}

interface Written<T> {
  /** resourceVersion of the cached object when we wrote: while the cache still shows it, use value. */
  basedOn: string | undefined;
  value: T;
}

const hash = (o: unknown): string =>
  createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 24);

export function mediaRegionReconciler(deps: MediaRegionReconcilerDeps): Reconciler {
  // What we last applied per object (by hash), and when: unchanged intents are not re-sent
  // until resyncMs has passed.
  const applied = new Map<string, { hash: string; at: number }>();
  // Our own writes the informers may not show yet (status, StatefulSet replicas).
  const statusWrites = new Map<string, Written<MediaRegionStatus>>();
  const stsWrites = new Map<string, Written<number>>();
  // Regions whose reconciliation is disabled, so the event goes out once.
  const paused = new Set<string>();

  const apply = async <T extends KubernetesObject>(
    key: string,
    obj: T,
    force = false,
  ): Promise<T | undefined> => {
    const id = `${key}|${obj.kind}/${obj.metadata?.name}`;
    const h = hash(obj);
    const last = applied.get(id);
    const now = deps.clock.now();
    if (!force && last && last.hash === h && now - last.at < deps.resyncMs) return undefined;
    const result = await deps.applier.apply(obj);
    applied.set(id, { hash: h, at: now });
    return result;
  };

  return async (key, { log }): Promise<Result | void> => {
    const region = deps.regions.get(key);
    if (!region || region.metadata.deletionTimestamp) {
      // Owner references let the garbage collector remove the children.
      statusWrites.delete(key);
      stsWrites.delete(key);
      paused.delete(key);
      for (const id of [...applied.keys()]) if (id.startsWith(`${key}|`)) applied.delete(id);
      return;
    }
    const { namespace, name } = region.metadata;
    if (reconciliationDisabled(region)) {
      // Hands off: nothing applied, scaled, drained or reported until the annotation goes.
      if (!paused.has(key)) {
        paused.add(key);
        log.info('reconciliation disabled by annotation amphi.dev/reconciliation');
        void deps.events.normal(
          region,
          'ReconciliationDisabled',
          'Reconcile',
          'amphi.dev/reconciliation=disabled: the operator leaves this region alone',
        );
      }
      return;
    }
    paused.delete(key);
    const spec = region.spec;
    const now = deps.clock.now();

    await apply(key, buildConfigMap(region));
    await apply(key, buildService(region));
    await apply(key, buildPodDisruptionBudget(region));

    // Load.
    const live = await deps.registry.live(now);
    if (live.invalid.length > 0) {
      log.warn({ invalid: live.invalid.map((i) => i.node) }, 'invalid heartbeats ignored');
    }
    const nodes = regionNodes(region, live.nodes);
    let used = 0;
    const heartbeats = new Map<number, NodeHeartbeat>();
    for (const [pod, hb] of nodes) {
      used += nodeLoad(hb);
      heartbeats.set(podOrdinal(region, pod)!, hb);
    }

    // Where we are: prefer our own writes while the caches lag behind them.
    const stsKey = `${namespace}/${stsName(region)}`;
    const sts = deps.statefulSets.get(stsKey);
    const stsWrite = stsWrites.get(stsKey);
    let replicas: number | undefined = sts?.spec?.replicas;
    if (stsWrite && (sts === undefined || sts.metadata?.resourceVersion === stsWrite.basedOn)) {
      replicas = stsWrite.value;
    }
    const statusWrite = statusWrites.get(key);
    const previous =
      statusWrite && region.metadata.resourceVersion === statusWrite.basedOn
        ? statusWrite.value
        : region.status;
    const drainingNames = previous?.drainingPods ?? [];
    const current = replicas ?? 0;
    const drainingOrdinals = drainingNames
      .map((n) => podOrdinal(region, n))
      .filter((o): o is number => o !== undefined && o < current);

    const decision = desiredReplicas({ spec, used, serving: current - drainingOrdinals.length });
    const deadlines = new Map<number, number>();
    for (const o of drainingOrdinals) {
      const request = await deps.registry.drainRequest(podName(region, o));
      if (request) deadlines.set(o, request.deadline);
    }
    const plan = planDrain({
      replicas: current,
      draining: drainingOrdinals,
      desiredServing: decision.desired,
      deadlines,
      heartbeats,
      now,
      drainDeadlineMs: spec.drain.deadlineSeconds * 1000,
    });

    // Drains first (the pods learn on their next beat), then the StatefulSet.
    for (const { ordinal, deadline } of plan.requestDrain) {
      const pod = podName(region, ordinal);
      const isNew = !drainingOrdinals.includes(ordinal);
      await deps.registry.requestDrain(pod, {
        reason: `scale-down of MediaRegion ${namespace}/${name}`,
        requestedAt: now,
        deadline,
      });
      await deps.annotatePod(namespace, pod, {
        [ANNOTATION_DRAINING]: 'true',
        [ANNOTATION_DRAIN_DEADLINE]: new Date(deadline).toISOString(),
      });
      if (isNew) {
        log.info(
          { pod, deadline, load: nodeLoad(heartbeats.get(ordinal) ?? emptyBeat) },
          'draining',
        );
        void deps.events.normal(region, 'Draining', 'Drain', `draining ${pod} before scale-down`);
      }
    }
    for (const ordinal of plan.cancelDrain) {
      const pod = podName(region, ordinal);
      await deps.registry.cancelDrain(pod);
      await deps.annotatePod(namespace, pod, {
        [ANNOTATION_DRAINING]: null,
        [ANNOTATION_DRAIN_DEADLINE]: null,
      });
      log.info({ pod }, 'drain cancelled, load came back');
      void deps.events.normal(
        region,
        'DrainCancelled',
        'Scale',
        `${pod} serves again: load came back`,
      );
    }

    const body = buildStatefulSet(region, plan.replicas, deps.mediaPod);
    const result = await apply(key, body, replicas !== undefined && replicas !== plan.replicas);
    if (result) {
      stsWrites.set(stsKey, { basedOn: sts?.metadata?.resourceVersion, value: plan.replicas });
    }
    if (replicas === undefined) {
      void deps.events.normal(
        region,
        'Created',
        'Apply',
        `StatefulSet ${stsName(region)} with ${plan.replicas} pods`,
      );
    } else if (plan.replicas > replicas) {
      log.info({ from: replicas, to: plan.replicas, used }, 'scaling up');
      void deps.events.normal(
        region,
        'ScalingUp',
        'Scale',
        `${replicas} → ${plan.replicas} media pods (load ${used})`,
      );
    } else if (plan.replicas < replicas) {
      const why = plan.removed.map((o) => `${podName(region, o)} ${plan.removedBecause.get(o)}`);
      log.info({ from: replicas, to: plan.replicas, why }, 'scaling down');
      void deps.events.normal(
        region,
        'ScalingDown',
        'Scale',
        `${replicas} → ${plan.replicas} media pods (${why.join(', ')})`,
      );
    }
    for (const ordinal of plan.removed) await deps.registry.cancelDrain(podName(region, ordinal));

    // Status.
    const latestSts = deps.statefulSets.get(stsKey);
    const drainingPods = plan.draining.map((o) => podName(region, o));
    const status = buildStatus({
      region,
      previous,
      specReplicas: plan.replicas,
      replicas: latestSts?.status?.replicas ?? 0,
      readyReplicas: latestSts?.status?.readyReplicas ?? 0,
      updatedReplicas: latestSts?.status?.updatedReplicas ?? 0,
      stsObserved:
        latestSts !== undefined &&
        (latestSts.status?.observedGeneration ?? -1) >= (latestSts.metadata?.generation ?? 0) &&
        latestSts.spec?.replicas === plan.replicas,
      used,
      drainingPods,
      direction: decision.direction,
      ...(live.invalid.length > 0
        ? {
            degraded: {
              reason: 'InvalidHeartbeats',
              message: `ignored invalid heartbeats from ${live.invalid.map((i) => i.node).join(', ')}`,
            },
          }
        : {}),
      now,
    });
    if (statusChanged(previous, status)) {
      await deps.patchStatus(namespace, name, status);
      statusWrites.set(key, { basedOn: region.metadata.resourceVersion, value: status });
    }

    let after = deps.resyncMs;
    if (plan.nextDeadline !== undefined)
      after = Math.min(after, Math.max(100, plan.nextDeadline - now + 50));
    return { requeueAfterMs: after };
  };
}

const emptyBeat: NodeHeartbeat = {
  node: '',
  region: '',
  zone: '',
  k8sNode: '',
  announcedAddress: '',
  signalingUrl: '',
  pipeUrl: '',
  draining: false,
  startedAt: 0,
  sentAt: 0,
  seq: 0,
  workers: [],
  shards: [],
};
