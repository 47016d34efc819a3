// The media pod's Node-based announce policies against a real kube-apiserver with kwok Nodes:
// NodeExternalIP / NodeInternalIP read Node NODE_NAME's status.addresses, the zone comes from its
// topology.kubernetes.io/zone label, and the entry point stops with a clear message (exit 2) when a
// Node has no ExternalIP. kwok Nodes carry only what kwok sets, so addresses are patched onto them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1NodeAddress,
} from '@kubernetes/client-node';
import { kubeNodeReader, resolveNodeFacts } from '../../media-pod/src/announce.js';
import { loadConfig } from '../../media-pod/src/config.js';
import { startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { repoRoot } from '../env/paths.js';
import { waitFor } from '../env/wait.js';

const run = promisify(execFile);
const PUBLIC = { name: 'kwok-announce-public', region: 'eu-west', zone: 'eu-west-a' };
const PRIVATE = { name: 'kwok-announce-private', region: 'eu-west', zone: 'eu-west-b' };

/** What the operator's StatefulSet gives a media pod (see operator-contract.test.ts), minus HOST_IP. */
const podEnv = (node: string, policy: string): Record<string, string> => ({
  MEDIA_REGION: 'eu-west',
  MEDIA_WORKERS: '1',
  MEDIA_BASE_PORT: '40000',
  MEDIA_LISTEN_IP: '0.0.0.0',
  MEDIA_ANNOUNCE_POLICY: policy,
  POD_NAME: 'eu-media-0',
  NODE_NAME: node,
  POD_IP: '10.244.0.9',
  REDIS_URL: 'redis://127.0.0.1:1',
  JOIN_TOKEN_SECRET: 'x'.repeat(32),
});

describe('media pod announce policies on a real apiserver (kwok Nodes)', () => {
  let kube: KubernetesHandle;
  let core: CoreV1Api;
  let kwokAddresses: V1NodeAddress[] = [];

  const setAddresses = async (name: string, addresses: V1NodeAddress[]): Promise<void> => {
    await core.patchNodeStatus(
      { name, body: { status: { addresses } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // kwok owns the Node status: make sure it keeps what we set.
    await waitFor(
      async () => {
        const node = await core.readNode({ name });
        const got = (node.status?.addresses ?? []).map((a) => `${a.type}=${a.address}`).sort();
        return (
          JSON.stringify(got) ===
          JSON.stringify(addresses.map((a) => `${a.type}=${a.address}`).sort())
        );
      },
      { what: `addresses on ${name}`, timeoutMs: 10_000, abortIf: kube.failure },
    );
  };

  beforeAll(async () => {
    kube = await startKubernetes({ nodes: [PUBLIC, PRIVATE] });
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
    kwokAddresses = (await core.readNode({ name: PUBLIC.name })).status?.addresses ?? [];
    await setAddresses(PUBLIC.name, [
      { type: 'InternalIP', address: '10.0.0.21' },
      { type: 'ExternalIP', address: '203.0.113.21' },
      { type: 'Hostname', address: PUBLIC.name },
    ]);
    await setAddresses(PRIVATE.name, [
      { type: 'InternalIP', address: '10.0.0.22' },
      { type: 'Hostname', address: PRIVATE.name },
    ]);
  });

  afterAll(async () => {
    await kube?.stop();
  });

  const resolve = (node: string, policy: string, extra: Record<string, string> = {}) =>
    resolveNodeFacts(
      loadConfig({ ...podEnv(node, policy), ...extra }),
      kubeNodeReader({ KUBECONFIG: kube.kubeconfigPath }),
      { attempts: 2, retryDelayMs: 100 },
    );

  test('kwok Nodes as created have an InternalIP and no ExternalIP (hence the patches)', () => {
    expect(kwokAddresses.map((a) => a.type)).toContain('InternalIP');
    expect(kwokAddresses.map((a) => a.type)).not.toContain('ExternalIP');
  });

  test('NodeExternalIP: the Node ExternalIP, the zone from its label, the pipe address POD_IP', async () => {
    const { config, warnings } = await resolve(PUBLIC.name, 'NodeExternalIP');
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      announcePolicy: 'NodeExternalIP',
      announcedAddress: '203.0.113.21',
      zone: 'eu-west-a',
      k8sNode: PUBLIC.name,
      pipeAddress: '10.244.0.9',
    });
  });

  test('NodeInternalIP: HOST_IP when given, else the Node InternalIP', async () => {
    const withHostIp = await resolve(PRIVATE.name, 'NodeInternalIP', { HOST_IP: '10.9.9.9' });
    expect(withHostIp.config).toMatchObject({ announcedAddress: '10.9.9.9', zone: 'eu-west-b' });
    const fromNode = await resolve(PRIVATE.name, 'NodeInternalIP');
    expect(fromNode.config).toMatchObject({ announcedAddress: '10.0.0.22', zone: 'eu-west-b' });
  });

  test('NodeExternalIP on a Node without one, or a missing Node: clear errors', async () => {
    await expect(resolve(PRIVATE.name, 'NodeExternalIP')).rejects.toThrow(
      `Node "${PRIVATE.name}" has no ExternalIP`,
    );
    await expect(resolve('no-such-node', 'NodeExternalIP')).rejects.toThrow(
      /could not read Node "no-such-node"/,
    );
  });

  test('Static with MEDIA_ZONE unset still takes the zone from the Node', async () => {
    const { config } = await resolve(PUBLIC.name, 'Static', {
      MEDIA_ANNOUNCED_ADDRESS: '198.51.100.9',
    });
    expect(config).toMatchObject({ announcedAddress: '198.51.100.9', zone: 'eu-west-a' });
  });

  test('the entry point exits 2 with the message when NodeExternalIP cannot be satisfied', async () => {
    const failed = await run(process.execPath, ['--import', 'tsx', 'media-pod/src/main.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        ...podEnv(PRIVATE.name, 'NodeExternalIP'),
        KUBECONFIG: kube.kubeconfigPath,
      },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`Node "${PRIVATE.name}" has no ExternalIP`);
  });
});
