// The contract between the MediaRegion controller and the media pod: the StatefulSet the operator
// builds, with its env resolved as the kubelet would (values, downward API fields, Secret keys),
// must load in the media pod's loadConfig() and resolve its announce policy. Every variable the
// builder emits must be one loadConfig reads, so a rename on either side fails here.
import { describe, expect, test } from '@jest/globals';
import type { V1EnvVar, V1Node } from '@kubernetes/client-node';
import { generateKeyPairSync } from 'node:crypto';
import { ADDRESS_POLICIES, type AddressPolicy } from '../../common/src/crd/media-region.js';
import { fixtureRegion } from '../../operator/src/controllers/media-region/fixtures.js';
import {
  buildStatefulSet,
  type MediaPodSettings,
} from '../../operator/src/controllers/media-region/resources.js';
import { resolveNodeFacts, type NodeReader } from './announce.js';
import { loadConfig } from './config.js';

const POD_FIELDS: Record<string, string> = {
  'metadata.name': 'eu-media-2',
  'metadata.namespace': 'amphi',
  'spec.nodeName': 'node-eu-1',
  'status.podIP': '10.244.1.7',
  'status.hostIP': '10.0.0.21',
};
const SECRET_VALUE = 'k'.repeat(40);
const { publicKey } = generateKeyPairSync('ed25519');
const PUBLIC_PEM = publicKey.export({ format: 'pem', type: 'spki' }).toString();
const SECRETS: Record<string, Record<string, string>> = {
  'amphi-join-token': { secret: SECRET_VALUE },
  'amphi-join-keys': { 'public.pem': PUBLIC_PEM },
};
const SETTINGS: MediaPodSettings = {
  redisUrl: 'redis://redis.amphi-system:6379',
  joinTokenSecret: { name: 'amphi-join-token', key: 'secret' },
  joinTokenIssuer: 'amphi-control-test',
};

/** As the kubelet resolves a container's env; anything it could not resolve throws. */
function resolveEnv(env: readonly V1EnvVar[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) {
      const value = POD_FIELDS[e.valueFrom.fieldRef.fieldPath];
      if (value === undefined)
        throw new Error(`${e.name}: unknown fieldRef ${e.valueFrom.fieldRef.fieldPath}`);
      out[e.name] = value;
    } else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const value = SECRETS[name ?? '']?.[key];
      if (value === undefined) throw new Error(`${e.name}: no key ${key} in Secret ${name}`);
      out[e.name] = value;
    } else throw new Error(`${e.name}: unsupported env source ${JSON.stringify(e)}`);
  }
  return out;
}

/** loadConfig over the env, recording which variables it read. */
function loadRecorded(env: Record<string, string>) {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key) as unknown;
    },
  });
  return { config: loadConfig(proxy), read };
}

const NODE: V1Node = {
  metadata: { name: 'node-eu-1', labels: { 'topology.kubernetes.io/zone': 'eu-west-b' } },
  status: {
    addresses: [
      { type: 'Hostname', address: 'node-eu-1' },
      { type: 'InternalIP', address: '10.0.0.21' },
      { type: 'ExternalIP', address: '203.0.113.21' },
    ],
  },
};
const reader = (node: V1Node = NODE): NodeReader & { reads: string[] } => {
  const reads: string[] = [];
  return {
    reads,
    readNode: (name) => {
      reads.push(name);
      return name === node.metadata?.name
        ? Promise.resolve(node)
        : Promise.reject(new Error(`nodes "${name}" not found`));
    },
  };
};

const built = (addresses: { policy: AddressPolicy; staticAddress?: string }) => {
  const region = fixtureRegion({
    mediaPod: { image: 'amphi/media-pod:1', workersPerPod: 3, basePort: 41000 },
    addresses,
    drain: { deadlineSeconds: 77 },
  });
  return buildStatefulSet(region, 3, SETTINGS);
};

describe('operator StatefulSet → media pod config', () => {
  test('the resolved env loads: region, workers, ports, identity, Redis, token, drain', () => {
    const sts = built({ policy: 'Static', staticAddress: '198.51.100.9' });
    const container = sts.spec!.template.spec!.containers[0]!;
    const env = resolveEnv(container.env!);
    const { config, read } = loadRecorded(env);

    // Every variable the operator sets is one the media pod reads.
    expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
    expect(config).toMatchObject({
      nodeId: 'eu-media-2',
      region: 'eu-west',
      k8sNode: 'node-eu-1',
      workers: 3,
      basePort: 41000,
      listenIp: '0.0.0.0',
      announcePolicy: 'Static',
      announcedAddress: '198.51.100.9',
      hostIp: '10.0.0.21',
      pipeAddress: '10.244.1.7',
      redisUrl: 'redis://redis.amphi-system:6379',
      joinTokenIssuer: 'amphi-control-test',
      drainDeadlineMs: 77_000,
    });
    expect(config.joinTokenKey).toEqual({
      alg: 'HS256',
      secret: new TextEncoder().encode(SECRET_VALUE),
    });

    // The container ports and probes are the ports the pod listens on.
    const port = (name: string) => container.ports!.find((p) => p.name === name)?.containerPort;
    expect(port('http')).toBe(config.signalingPort);
    expect(port('pipe')).toBe(config.pipePort);
    const workerPorts = container
      .ports!.filter((p) => p.name?.startsWith('rtc-udp-'))
      .map((p) => p.containerPort);
    expect(workerPorts).toEqual([41000, 41001, 41002]);
    for (const probe of [container.readinessProbe, container.livenessProbe])
      expect(probe?.httpGet?.port).toBe('http');
    expect(container.lifecycle?.preStop?.httpGet).toEqual({ path: '/drain', port: 'http' });
  });

  test("with the key pair configured the pod verifies with the control API's public key only", () => {
    const region = fixtureRegion({
      addresses: { policy: 'Static', staticAddress: '198.51.100.9' },
    });
    const sts = buildStatefulSet(region, 1, {
      ...SETTINGS,
      joinTokenPublicKeySecret: { name: 'amphi-join-keys', key: 'public.pem' },
    });
    const env = resolveEnv(sts.spec!.template.spec!.containers[0]!.env!);
    expect(env.JOIN_TOKEN_SECRET).toBeUndefined();
    const { config, read } = loadRecorded(env);
    expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
    expect(config.joinTokenKey.alg).toBe('EdDSA');
  });

  test('without the platform settings the pod would refuse to start (REDIS_URL, JOIN_TOKEN_SECRET)', () => {
    const region = fixtureRegion({
      addresses: { policy: 'Static', staticAddress: '198.51.100.9' },
    });
    const env = resolveEnv(buildStatefulSet(region, 1).spec!.template.spec!.containers[0]!.env!);
    expect(() => loadConfig(env)).toThrow(
      /REDIS_URL is required[\s\S]*JOIN_TOKEN_SECRET or JOIN_TOKEN_PUBLIC_KEY is required/,
    );
  });

  const cases: Record<
    AddressPolicy,
    { staticAddress?: string; announced: string; nodeReads: number }
  > = {
    Static: { staticAddress: '198.51.100.9', announced: '198.51.100.9', nodeReads: 1 },
    LoadBalancer: { staticAddress: '192.0.2.80', announced: '192.0.2.80', nodeReads: 1 },
    NodeInternalIP: { announced: '10.0.0.21', nodeReads: 1 }, // HOST_IP
    NodeExternalIP: { announced: '203.0.113.21', nodeReads: 1 },
  };
  test('every policy of the CRD has a case', () => {
    expect(Object.keys(cases).sort()).toEqual([...ADDRESS_POLICIES].sort());
  });
  test.each(Object.entries(cases))(
    'policy %s: the announced address and the zone (from the Node)',
    async (policy, c) => {
      const sts = built({
        policy: policy as AddressPolicy,
        ...(c.staticAddress ? { staticAddress: c.staticAddress } : {}),
      });
      const env = resolveEnv(sts.spec!.template.spec!.containers[0]!.env!);
      const { config: loaded, read } = loadRecorded(env);
      expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
      expect(loaded.announcePolicy).toBe(policy);
      const nodes = reader();
      const { config, warnings } = await resolveNodeFacts(loaded, nodes, { retryDelayMs: 1 });
      expect(warnings).toEqual([]);
      expect(config.announcedAddress).toBe(c.announced);
      expect(config.zone).toBe('eu-west-b');
      expect(config.pipeAddress).toBe('10.244.1.7');
      expect(nodes.reads).toEqual(Array(c.nodeReads).fill('node-eu-1'));
    },
  );

  test('LoadBalancer without an address, NodeExternalIP on a Node without one: clear errors', async () => {
    const lb = resolveEnv(
      built({ policy: 'LoadBalancer' }).spec!.template.spec!.containers[0]!.env!,
    );
    expect(() => loadConfig(lb)).toThrow(
      /MEDIA_ANNOUNCED_ADDRESS is required with MEDIA_ANNOUNCE_POLICY=LoadBalancer/,
    );

    const ext = loadConfig(
      resolveEnv(built({ policy: 'NodeExternalIP' }).spec!.template.spec!.containers[0]!.env!),
    );
    const privateNode: V1Node = {
      ...NODE,
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.21' }] },
    };
    await expect(resolveNodeFacts(ext, reader(privateNode), { retryDelayMs: 1 })).rejects.toThrow(
      /Node "node-eu-1" has no ExternalIP/,
    );
    await expect(resolveNodeFacts(ext, undefined, { retryDelayMs: 1 })).rejects.toThrow(
      /could not read Node "node-eu-1": no Kubernetes API access/,
    );
  });
});
