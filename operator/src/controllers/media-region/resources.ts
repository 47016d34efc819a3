// Pure builders: a MediaRegion → the objects the controller applies (server-side apply bodies).
import { createHash } from 'node:crypto';
import type {
  V1Affinity,
  V1ConfigMap,
  V1ContainerPort,
  V1EnvVar,
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
  HTTP_PORT,
  NODE_HOSTNAME_LABEL,
  PIPE_PORT,
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

/**
 * Platform settings the media pods need that are not in the MediaRegion (operator env, see
 * README.md): Redis, the join-token key, the service account (NodeExternalIP reads the Node).
 */
export interface MediaPodSettings {
  /**
   * REDIS_URL of the media pods (the node registry). It may hold `$(REDIS_PASSWORD)`, which the
   * kubelet fills from redisPasswordSecret, so no password is ever written into the StatefulSet.
   */
  redisUrl?: string;
  /** Secret (in the MediaRegion's namespace) and key holding the whole REDIS_URL instead. */
  redisUrlSecret?: { name: string; key: string };
  /** Secret (in the MediaRegion's namespace) and key holding REDIS_PASSWORD. */
  redisPasswordSecret?: { name: string; key: string };
  /** Secret (in the MediaRegion's namespace) and key holding JOIN_TOKEN_SECRET (HS256). */
  joinTokenSecret?: { name: string; key: string };
  /**
   * Secret (in the MediaRegion's namespace) and key holding JOIN_TOKEN_PUBLIC_KEY (SPKI PEM; the
   * control API signs with the private key). When set it wins over joinTokenSecret: the pods get
   * only the public key, so a media pod cannot mint join tokens.
   */
  joinTokenPublicKeySecret?: { name: string; key: string };
  /** JOIN_TOKEN_ISSUER; the media pod defaults to amphi-control. */
  joinTokenIssuer?: string;
  /** serviceAccountName of the media pods; it needs get on nodes for NodeExternalIP and zones. */
  serviceAccountName?: string;
}

/**
 * A summary of the region's media pod settings, kept in the `<cr>-media-config` ConfigMap for
 * people and tools. The media pod does not read it: its interface is its environment
 * (media-pod/src/config.ts), built by mediaPodEnv().
 */
export interface MediaPodConfig {
  mediaRegion: string;
  region: string;
  zones: string[];
  workers: number;
  basePort: number;
  httpPort: number;
  pipePort: number;
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
    pipePort: PIPE_PORT,
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

const secretEnv = (name: string, ref: { name: string; key: string }): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
});

const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

/**
 * The media pod's environment: exactly the variables media-pod/src/config.ts reads (the contract
 * test media-pod/src/operator-contract.test.ts resolves it and feeds it to loadConfig).
 * MEDIA_ZONE is left out: the pod reads its Node's topology.kubernetes.io/zone label.
 */
export function mediaPodEnv(region: MediaRegion, settings: MediaPodSettings = {}): V1EnvVar[] {
  const { spec } = region;
  const { policy, staticAddress } = spec.addresses;
  return [
    { name: 'MEDIA_REGION', value: spec.region },
    { name: 'MEDIA_WORKERS', value: String(spec.mediaPod.workersPerPod) },
    { name: 'MEDIA_BASE_PORT', value: String(spec.mediaPod.basePort) },
    { name: 'MEDIA_LISTEN_IP', value: '0.0.0.0' },
    { name: 'MEDIA_SIGNALING_PORT', value: String(HTTP_PORT) },
    { name: 'MEDIA_PIPE_PORT', value: String(PIPE_PORT) },
    { name: 'MEDIA_ANNOUNCE_POLICY', value: policy },
    // Static: the address; LoadBalancer: the load balancer's address when the region names one.
    ...((policy === 'Static' || policy === 'LoadBalancer') && staticAddress !== undefined
      ? [{ name: 'MEDIA_ANNOUNCED_ADDRESS', value: staticAddress }]
      : []),
    { name: 'MEDIA_DRAIN_DEADLINE_MS', value: String(spec.drain.deadlineSeconds * 1000) },
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    fieldEnv('POD_IP', 'status.podIP'),
    fieldEnv('HOST_IP', 'status.hostIP'),
    // REDIS_PASSWORD first: the kubelet expands $(REDIS_PASSWORD) only from variables defined above.
    ...(settings.redisPasswordSecret
      ? [secretEnv('REDIS_PASSWORD', settings.redisPasswordSecret)]
      : []),
    ...(settings.redisUrlSecret
      ? [secretEnv('REDIS_URL', settings.redisUrlSecret)]
      : settings.redisUrl
        ? [{ name: 'REDIS_URL', value: settings.redisUrl }]
        : []),
    // Exactly one join-token key: the public key when there is one, never the HS256 secret too.
    ...(settings.joinTokenPublicKeySecret
      ? [secretEnv('JOIN_TOKEN_PUBLIC_KEY', settings.joinTokenPublicKeySecret)]
      : settings.joinTokenSecret
        ? [secretEnv('JOIN_TOKEN_SECRET', settings.joinTokenSecret)]
        : []),
    ...(settings.joinTokenIssuer
      ? [{ name: 'JOIN_TOKEN_ISSUER', value: settings.joinTokenIssuer }]
      : []),
  ];
}

export function buildStatefulSet(
  region: MediaRegion,
  replicas: number,
  settings: MediaPodSettings = {},
): V1StatefulSet {
  const { spec } = region;
  const labels = commonLabels(region);
  const selector = selectorLabels(region);
  const terminationGracePeriodSeconds = spec.drain.deadlineSeconds + TERMINATION_MARGIN_SECONDS;
  const env = mediaPodEnv(region, settings);
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
          ...(settings.serviceAccountName
            ? { serviceAccountName: settings.serviceAccountName }
            : {}),
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
                { name: 'pipe', containerPort: PIPE_PORT, protocol: 'TCP' },
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
                // The pod drains (as on SIGTERM) and answers once it is empty or its drain
                // deadline passed; SIGTERM follows.
                preStop: { httpGet: { path: '/drain', port: 'http' } },
              },
              ...(spec.mediaPod.resources
                ? { resources: structuredClone(spec.mediaPod.resources) as V1ResourceRequirements }
                : {}),
            },
          ],
        },
      },
    },
  };
}
