// The announce policies (MediaRegion spec.addresses.policy → MEDIA_ANNOUNCE_POLICY): what address
// the pod puts in its ICE candidates, and its zone, read from its Node when the environment does not
// say. loadConfig() validates the environment; resolveNodeFacts() completes the config from the Node.
//
//   Static          MEDIA_ANNOUNCED_ADDRESS (or MEDIA_LISTEN_IP when not 0.0.0.0)
//   LoadBalancer    MEDIA_ANNOUNCED_ADDRESS (set by the chart/operator to the load balancer address)
//   NodeInternalIP  HOST_IP (downward API status.hostIP), else the Node's InternalIP
//   NodeExternalIP  the Node's ExternalIP (Node NODE_NAME, read with the pod's service account)
//
// MEDIA_ZONE, when unset, is the Node's topology.kubernetes.io/zone label (best effort).
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import type { MediaPodConfig } from './config.js';

export const NODE_ZONE_LABEL = 'topology.kubernetes.io/zone';

export class AnnounceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnnounceError';
  }
}

/** Reads one Node object. */
export interface NodeReader {
  readNode(name: string): Promise<V1Node>;
}

type Env = Record<string, string | undefined>;

/**
 * A reader through the Kubernetes API: KUBECONFIG when set (tests, outside a cluster), else the
 * in-cluster service account; undefined when neither is available.
 */
export function kubeNodeReader(env: Env = process.env): NodeReader | undefined {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
  else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else return undefined;
  const core = kc.makeApiClient(CoreV1Api);
  return { readNode: (name) => core.readNode({ name }) };
}

/** The Node's first address of a type (InternalIP, ExternalIP), if any. */
export function nodeAddress(node: V1Node, type: 'InternalIP' | 'ExternalIP'): string | undefined {
  return node.status?.addresses?.find((a) => a.type === type && a.address)?.address;
}

export interface ResolveOptions {
  /** Read attempts before giving up (the API may be briefly unreachable at pod start). Default 5. */
  attempts?: number;
  /** Pause between attempts. Default 1 s. */
  retryDelayMs?: number;
}

/**
 * Completes a loaded config: announcedAddress (and a pipe address that defaulted to it) from the
 * Node for the Node* policies, zone from the Node's label. Throws AnnounceError when the policy
 * cannot be satisfied; a zone that cannot be read is only a warning.
 */
export async function resolveNodeFacts(
  config: MediaPodConfig,
  reader: NodeReader | undefined,
  options: ResolveOptions = {},
): Promise<{ config: MediaPodConfig; warnings: string[] }> {
  const warnings: string[] = [];
  const needAddress = config.announcedAddress === '';
  const needZone = config.zone === '' && config.k8sNode !== '';
  let node: V1Node | undefined;
  let readError: string | undefined;
  if ((needAddress || needZone) && config.k8sNode !== '') {
    if (!reader) {
      readError =
        'no Kubernetes API access (neither KUBECONFIG nor KUBERNETES_SERVICE_HOST is set)';
    } else {
      const attempts = options.attempts ?? 5;
      for (let i = 1; i <= attempts && !node; i++) {
        try {
          node = await reader.readNode(config.k8sNode);
        } catch (error) {
          readError = (error as Error).message;
          if (i < attempts) await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 1_000));
        }
      }
    }
  }
  const nodeProblem = (): string =>
    `could not read Node ${JSON.stringify(config.k8sNode)}: ${readError ?? 'no NODE_NAME'}` +
    ' (the pod needs get on nodes)';

  let announcedAddress = config.announcedAddress;
  if (needAddress) {
    const type = config.announcePolicy === 'NodeExternalIP' ? 'ExternalIP' : 'InternalIP';
    if (config.announcePolicy !== 'NodeExternalIP' && config.announcePolicy !== 'NodeInternalIP')
      throw new AnnounceError(
        `MEDIA_ANNOUNCE_POLICY=${config.announcePolicy} gave no address: set MEDIA_ANNOUNCED_ADDRESS`,
      );
    if (!node)
      throw new AnnounceError(`MEDIA_ANNOUNCE_POLICY=${config.announcePolicy}: ${nodeProblem()}`);
    const address = nodeAddress(node, type);
    if (!address)
      throw new AnnounceError(
        `MEDIA_ANNOUNCE_POLICY=${config.announcePolicy}: Node ${JSON.stringify(config.k8sNode)} has no ${type} in status.addresses` +
          (type === 'ExternalIP'
            ? ' (use NodeInternalIP, Static or LoadBalancer for nodes without public addresses)'
            : ''),
      );
    announcedAddress = address;
  }
  let zone = config.zone;
  if (needZone) {
    if (!node) warnings.push(`MEDIA_ZONE not set and ${nodeProblem()}: zone unknown`);
    else {
      zone = node.metadata?.labels?.[NODE_ZONE_LABEL] ?? '';
      if (!zone)
        warnings.push(
          `MEDIA_ZONE not set and Node ${JSON.stringify(config.k8sNode)} has no ${NODE_ZONE_LABEL} label`,
        );
    }
  }
  return {
    config: {
      ...config,
      announcedAddress,
      zone,
      pipeAddress: config.pipeAddress || announcedAddress,
    },
    warnings,
  };
}
