// Pure builders: a MediaRegion → the objects the controller applies (server-side apply bodies).
import { createHash } from 'node:crypto';
import type {
  V1Affinity,
  V1ConfigMap,
  V1ContainerPort,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1PodDisruptionBudget,
  V1ResourceRequirements,
  V1Service,
  V1StatefulSet,
  V1Toleration,
} from '@kubernetes/client-node';
import {
  ANNOTATION_CONFIG_HASH,
  CONFIG_FILE,
  CONFIG_MOUNT,
  HTTP_PORT,
  NODE_HOSTNAME_LABEL,
  NODE_REGION_LABEL,
  NODE_ZONE_LABEL,
  TERMINATION_MARGIN_SECONDS,
  commonLabels,
  configMapName,
  ownerReference,
  pdbName,
  selectorLabels,
  serviceName,
  stsName,
  type MediaRegion,
} from './types.js';

/** What the media pod reads from CONFIG_MOUNT/CONFIG_FILE. */
export interface MediaPodConfig {
  mediaRegion: string;
  region: string;
  zones: string[];
  workers: number;
  basePort: number;
  httpPort: number;
  announce: { policy: string; staticAddress?: string };
  capacity: { listenersPerWorker: number };
  drainDeadlineSeconds: number;
}

export function mediaPodConfig(region: MediaRegion): MediaPodConfig {
  const { spec } = region;
  return {
    mediaRegion: region.metadata.name,
    region: spec.region,
    zones: spec.zones ?? [],
    workers: spec.mediaPod.workersPerPod,
    basePort: spec.mediaPod.basePort,
    httpPort: HTTP_PORT,
    announce: {
      policy: spec.addresses.policy,
      ...(spec.addresses.staticAddress !== undefined
        ? { staticAddress: spec.addresses.staticAddress }
        : {}),
    },
    capacity: { listenersPerWorker: spec.capacity.listenersPerWorker },
    drainDeadlineSeconds: spec.drain.deadlineSeconds,
  };
}

const metadata = (region: MediaRegion, name: string) => ({
  name,
  namespace: region.metadata.namespace,
  labels: commonLabels(region),
  ownerReferences: [ownerReference(region)],
});

export function buildConfigMap(region: MediaRegion): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(region, configMapName(region)),
    data: { [CONFIG_FILE]: `${JSON.stringify(mediaPodConfig(region), null, 2)}\n` },
  };
}

/** Changes whenever the config does, so the pods roll on a config change. */
export function configHash(region: MediaRegion): string {
  return createHash('sha256')
    .update(JSON.stringify(mediaPodConfig(region)))
    .digest('hex')
    .slice(0, 16);
}

export function buildService(region: MediaRegion): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(region, serviceName(region)),
    spec: {
      clusterIP: 'None',
      // Peers and the operator address pods before they are ready (pipe negotiation, drain).
      publishNotReadyAddresses: true,
      selector: selectorLabels(region),
      ports: [{ name: 'http', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function buildPodDisruptionBudget(region: MediaRegion): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(region, pdbName(region)),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(region) } },
  };
}

/** One UDP and one TCP port per worker, each the same on the host (WebRtcServer, no ranges). */
export function workerPorts(region: MediaRegion): V1ContainerPort[] {
  const { workersPerPod, basePort } = region.spec.mediaPod;
  const ports: V1ContainerPort[] = [];
  for (let i = 0; i < workersPerPod; i++) {
    const port = basePort + i;
    ports.push({ name: `rtc-udp-${i}`, containerPort: port, hostPort: port, protocol: 'UDP' });
    ports.push({ name: `rtc-tcp-${i}`, containerPort: port, hostPort: port, protocol: 'TCP' });
  }
  return ports;
}

/**
 * spec.placement.affinity with the region (and zones) required: the requirement is ANDed into
 * every node selector term the user gave (terms are ORed), or forms the only term.
 */
export function buildAffinity(region: MediaRegion): V1Affinity {
  const user = structuredClone((region.spec.placement?.affinity ?? {}) as V1Affinity);
  const ours: V1NodeSelectorRequirement[] = [
    { key: NODE_REGION_LABEL, operator: 'In', values: [region.spec.region] },
  ];
  if (region.spec.zones && region.spec.zones.length > 0) {
    ours.push({ key: NODE_ZONE_LABEL, operator: 'In', values: [...region.spec.zones] });
  }
  const nodeAffinity = user.nodeAffinity ?? {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  const userTerms: V1NodeSelectorTerm[] = required?.nodeSelectorTerms ?? [];
  const terms: V1NodeSelectorTerm[] =
    userTerms.length === 0
      ? [{ matchExpressions: ours }]
      : userTerms.map((t) => ({
          ...t,
          matchExpressions: [...(t.matchExpressions ?? []), ...ours],
        }));
  return {
    ...user,
    nodeAffinity: {
      ...nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms },
    },
  };
}

const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

export function buildStatefulSet(region: MediaRegion, replicas: number): V1StatefulSet {
  const { spec } = region;
  const labels = commonLabels(region);
  const selector = selectorLabels(region);
  const terminationGracePeriodSeconds = spec.drain.deadlineSeconds + TERMINATION_MARGIN_SECONDS;
  const env = [
    { name: 'AMPHI_MEDIA_REGION', value: region.metadata.name },
    { name: 'AMPHI_REGION', value: spec.region },
    { name: 'AMPHI_WORKERS', value: String(spec.mediaPod.workersPerPod) },
    { name: 'AMPHI_BASE_PORT', value: String(spec.mediaPod.basePort) },
    { name: 'AMPHI_HTTP_PORT', value: String(HTTP_PORT) },
    { name: 'AMPHI_ANNOUNCE_POLICY', value: spec.addresses.policy },
    ...(spec.addresses.staticAddress !== undefined
      ? [{ name: 'AMPHI_STATIC_ADDRESS', value: spec.addresses.staticAddress }]
      : []),
    { name: 'AMPHI_DRAIN_DEADLINE_SECONDS', value: String(spec.drain.deadlineSeconds) },
    { name: 'AMPHI_CONFIG', value: `${CONFIG_MOUNT}/${CONFIG_FILE}` },
    fieldEnv('AMPHI_POD_NAME', 'metadata.name'),
    fieldEnv('AMPHI_POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('AMPHI_NODE_NAME', 'spec.nodeName'),
    fieldEnv('AMPHI_POD_IP', 'status.podIP'),
    fieldEnv('AMPHI_HOST_IP', 'status.hostIP'),
  ];
  const spread = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(region, stsName(region)),
    spec: {
      replicas,
      serviceName: serviceName(region),
      // Scale-ups need not wait for each pod in turn; scale-down still removes the highest
      // ordinals, which the controller drained first.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: {
          labels,
          annotations: { [ANNOTATION_CONFIG_HASH]: configHash(region) },
        },
        spec: {
          terminationGracePeriodSeconds,
          ...(spec.placement?.nodeSelector
            ? { nodeSelector: { ...spec.placement.nodeSelector } }
            : {}),
          affinity: buildAffinity(region),
          ...(spec.placement?.tolerations
            ? { tolerations: structuredClone(spec.placement.tolerations) as V1Toleration[] }
            : {}),
          topologySpreadConstraints: [spread(NODE_ZONE_LABEL), spread(NODE_HOSTNAME_LABEL)],
          containers: [
            {
              name: 'media',
              image: spec.mediaPod.image,
              env,
              ports: [
                { name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' },
                ...workerPorts(region),
              ],
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'http' },
                periodSeconds: 2,
                failureThreshold: 2,
              },
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'http' },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                failureThreshold: 3,
              },
              lifecycle: {
                // Blocks until the pod is empty or its drain deadline passes; SIGTERM follows.
                preStop: { httpGet: { path: '/drain', port: 'http' } },
              },
              ...(spec.mediaPod.resources
                ? { resources: structuredClone(spec.mediaPod.resources) as V1ResourceRequirements }
                : {}),
              volumeMounts: [{ name: 'config', mountPath: CONFIG_MOUNT, readOnly: true }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: configMapName(region) } }],
        },
      },
    },
  };
}
