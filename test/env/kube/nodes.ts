// Fake regional Nodes, run by kwok: real Node objects the scheduler places Pods on.
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { waitFor } from '../wait.js';
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from './components.js';

export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface FakeNodeSpec {
  name: string;
  region: string;
  zone: string;
  /** Allocatable resources; defaults: 8 CPUs, 32Gi, 110 pods. */
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Readonly<Record<string, string>>;
}

/** Two regions with two zones each, one node per zone. */
export const DEFAULT_NODES: readonly FakeNodeSpec[] = [
  { name: 'kwok-eu-west-a', region: 'eu-west', zone: 'eu-west-a' },
  { name: 'kwok-eu-west-b', region: 'eu-west', zone: 'eu-west-b' },
  { name: 'kwok-us-east-a', region: 'us-east', zone: 'us-east-a' },
  { name: 'kwok-us-east-b', region: 'us-east', zone: 'us-east-b' },
];

export function nodeManifest(spec: FakeNodeSpec): V1Node {
  const allocatable = {
    cpu: spec.cpu ?? '8',
    memory: spec.memory ?? '32Gi',
    pods: spec.pods ?? '110',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: { [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE },
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'kwok',
        type: 'kwok',
        [REGION_LABEL]: spec.region,
        [ZONE_LABEL]: spec.zone,
        ...spec.labels,
      },
    },
    spec: {},
    status: { allocatable, capacity: allocatable },
  };
}

export function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Creates the Nodes and waits until kwok reports each of them Ready. */
export async function createNodes(
  kc: KubeConfig,
  specs: readonly FakeNodeSpec[],
  options: { timeoutMs: number; abortIf?: () => string | undefined },
): Promise<V1Node[]> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const spec of specs) await core.createNode({ body: nodeManifest(spec) });
  const names = new Set(specs.map((s) => s.name));
  return waitFor(
    async () => {
      const { items } = await core.listNode();
      const ours = items.filter((n) => names.has(n.metadata?.name ?? ''));
      return ours.length === names.size && ours.every(isReady) ? ours : undefined;
    },
    {
      what: `nodes ${[...names].join(', ')} to be Ready`,
      timeoutMs: options.timeoutMs,
      intervalMs: 250,
      abortIf: options.abortIf,
    },
  );
}
