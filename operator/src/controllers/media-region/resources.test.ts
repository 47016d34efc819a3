import { describe, expect, test } from '@jest/globals';
import { fixtureRegion } from './fixtures.js';
import {
  buildAffinity,
  buildConfigMap,
  buildPodDisruptionBudget,
  buildService,
  buildStatefulSet,
  configHash,
} from './resources.js';

describe('MediaRegion builders', () => {
  const region = fixtureRegion();

  test('StatefulSet: name, labels, controller owner reference, replicas', () => {
    const sts = buildStatefulSet(region, 3);
    expect(sts.metadata).toMatchObject({
      name: 'eu-media',
      namespace: 'amphi',
      labels: { 'app.kubernetes.io/name': 'amphi-media-pod', 'amphi.dev/region': 'eu-west' },
      ownerReferences: [
        {
          apiVersion: 'amphi.dev/v1alpha1',
          kind: 'MediaRegion',
          name: 'eu',
          uid: 'uid-1',
          controller: true,
        },
      ],
    });
    expect(sts.spec?.replicas).toBe(3);
    expect(sts.spec?.serviceName).toBe('eu-media');
    expect(sts.spec?.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'amphi-media-pod',
      'amphi.dev/media-region': 'eu',
    });
    expect(sts.spec?.template.metadata?.labels).toMatchObject(sts.spec!.selector.matchLabels!);
  });

  test('one container; a UDP and a TCP hostPort per worker at basePort+i; no hostNetwork', () => {
    const pod = buildStatefulSet(
      fixtureRegion({ mediaPod: { image: 'x', workersPerPod: 3, basePort: 50000 } }),
      1,
    ).spec!.template.spec!;
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.containers).toHaveLength(1);
    const ports = pod.containers[0]!.ports!;
    expect(
      ports
        .filter((p) => p.hostPort !== undefined)
        .map((p) => [p.protocol, p.containerPort, p.hostPort]),
    ).toEqual([
      ['UDP', 50000, 50000],
      ['TCP', 50000, 50000],
      ['UDP', 50001, 50001],
      ['TCP', 50001, 50001],
      ['UDP', 50002, 50002],
      ['TCP', 50002, 50002],
    ]);
    expect(new Set(ports.map((p) => p.name)).size).toBe(ports.length);
    for (const p of ports) expect(p.name!.length).toBeLessThanOrEqual(15);
  });

  test('env: the media pod variables; downward API pod, node and IPs; platform settings', () => {
    const pod = buildStatefulSet(
      fixtureRegion({ addresses: { policy: 'Static', staticAddress: '198.51.100.9' } }),
      1,
      {
        redisUrl: 'redis://redis:6379',
        joinTokenSecret: { name: 'amphi-join-token', key: 'secret' },
        joinTokenIssuer: 'amphi-control',
        serviceAccountName: 'amphi-media-pod',
      },
    ).spec!.template.spec!;
    const env = pod.containers[0]!.env!;
    const byName = new Map(env.map((e) => [e.name, e]));
    expect(byName.get('MEDIA_REGION')?.value).toBe('eu-west');
    expect(byName.get('MEDIA_WORKERS')?.value).toBe('2');
    expect(byName.get('MEDIA_BASE_PORT')?.value).toBe('40000');
    expect(byName.get('MEDIA_SIGNALING_PORT')?.value).toBe('8080');
    expect(byName.get('MEDIA_PIPE_PORT')?.value).toBe('8081');
    expect(byName.get('MEDIA_LISTEN_IP')?.value).toBe('0.0.0.0');
    expect(byName.get('MEDIA_ANNOUNCE_POLICY')?.value).toBe('Static');
    expect(byName.get('MEDIA_ANNOUNCED_ADDRESS')?.value).toBe('198.51.100.9');
    expect(byName.get('MEDIA_DRAIN_DEADLINE_MS')?.value).toBe('600000');
    expect(byName.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(byName.get('NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(byName.get('POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
    expect(byName.get('HOST_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.hostIP');
    expect(byName.get('REDIS_URL')?.value).toBe('redis://redis:6379');
    expect(byName.get('JOIN_TOKEN_SECRET')?.valueFrom?.secretKeyRef).toEqual({
      name: 'amphi-join-token',
      key: 'secret',
    });
    expect(byName.has('JOIN_TOKEN_PUBLIC_KEY')).toBe(false);
    expect(byName.get('JOIN_TOKEN_ISSUER')?.value).toBe('amphi-control');
    expect(byName.has('MEDIA_ZONE')).toBe(false); // read from the Node's zone label
    expect([...byName.keys()].filter((n) => n.startsWith('AMPHI_'))).toEqual([]);
    expect(pod.serviceAccountName).toBe('amphi-media-pod');
    expect(pod.containers[0]!.ports!.slice(0, 2)).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'pipe', containerPort: 8081, protocol: 'TCP' },
    ]);
  });

  test('env: the Redis password comes from its Secret and is expanded by the kubelet, never written', () => {
    const env = buildStatefulSet(region, 1, {
      redisUrl: 'redis://:$(REDIS_PASSWORD)@amphi-redis.amphi.svc:6379',
      redisPasswordSecret: { name: 'amphi-secrets', key: 'redis-password' },
    }).spec!.template.spec!.containers[0]!.env!;
    const names = env.map((e) => e.name);
    // $(VAR) expands only from variables defined earlier in the list.
    expect(names.indexOf('REDIS_PASSWORD')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('REDIS_PASSWORD')).toBeLessThan(names.indexOf('REDIS_URL'));
    const byName = new Map(env.map((e) => [e.name, e]));
    expect(byName.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'amphi-secrets',
      key: 'redis-password',
    });
    expect(byName.get('REDIS_URL')?.value).toBe(
      'redis://:$(REDIS_PASSWORD)@amphi-redis.amphi.svc:6379',
    );

    const fromSecret = buildStatefulSet(region, 1, {
      redisUrl: 'redis://ignored:6379',
      redisUrlSecret: { name: 'external-redis', key: 'redis-url' },
    }).spec!.template.spec!.containers[0]!.env!;
    const url = fromSecret.filter((e) => e.name === 'REDIS_URL');
    expect(url).toEqual([
      {
        name: 'REDIS_URL',
        valueFrom: { secretKeyRef: { name: 'external-redis', key: 'redis-url' } },
      },
    ]);
  });

  test('env: a join-token public key reference → JOIN_TOKEN_PUBLIC_KEY from its Secret, never JOIN_TOKEN_SECRET', () => {
    const joinTokenPublicKeySecret = { name: 'amphi-join-keys', key: 'public.pem' };
    const onlyPublic = buildStatefulSet(region, 1, {
      redisUrl: 'redis://redis:6379',
      joinTokenPublicKeySecret,
    }).spec!.template.spec!.containers[0]!.env!;
    // Even with the HS256 secret configured too, the public key wins: a media pod holds no
    // key that could sign a join token.
    const both = buildStatefulSet(region, 1, {
      redisUrl: 'redis://redis:6379',
      joinTokenSecret: { name: 'amphi-secrets', key: 'join-token-secret' },
      joinTokenPublicKeySecret,
    }).spec!.template.spec!.containers[0]!.env!;
    for (const env of [onlyPublic, both]) {
      expect(env.filter((e) => e.name.startsWith('JOIN_TOKEN_'))).toEqual([
        {
          name: 'JOIN_TOKEN_PUBLIC_KEY',
          valueFrom: { secretKeyRef: { name: 'amphi-join-keys', key: 'public.pem' } },
        },
      ]);
    }
  });

  test('env: the HS256 secret only → JOIN_TOKEN_SECRET from its Secret, no JOIN_TOKEN_PUBLIC_KEY', () => {
    const env = buildStatefulSet(region, 1, {
      joinTokenSecret: { name: 'amphi-secrets', key: 'join-token-secret' },
    }).spec!.template.spec!.containers[0]!.env!;
    expect(env.filter((e) => e.name.startsWith('JOIN_TOKEN_'))).toEqual([
      {
        name: 'JOIN_TOKEN_SECRET',
        valueFrom: { secretKeyRef: { name: 'amphi-secrets', key: 'join-token-secret' } },
      },
    ]);
  });

  test('env without platform settings: no REDIS_URL, JOIN_TOKEN_*, service account', () => {
    const pod = buildStatefulSet(region, 1).spec!.template.spec!;
    const names = pod.containers[0]!.env!.map((e) => e.name);
    expect(names).not.toContain('REDIS_URL');
    expect(names).not.toContain('JOIN_TOKEN_SECRET');
    expect(names).not.toContain('JOIN_TOKEN_PUBLIC_KEY');
    expect(names).not.toContain('MEDIA_ANNOUNCED_ADDRESS');
    expect(pod.serviceAccountName).toBeUndefined();
  });

  test('probes on the HTTP port, preStop, grace = drain deadline + margin, spread over zones and hosts', () => {
    const pod = buildStatefulSet(region, 1).spec!.template.spec!;
    const c = pod.containers[0]!;
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.lifecycle?.preStop?.httpGet?.path).toBe('/drain');
    expect(pod.terminationGracePeriodSeconds).toBe(630);
    expect(pod.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
  });

  test('placement: nodeSelector and tolerations pass through; the region is required in every term', () => {
    const r = fixtureRegion({
      zones: ['eu-west-a'],
      placement: {
        nodeSelector: { pool: 'media' },
        tolerations: [{ key: 'media', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] },
                { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
              ],
            },
          },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
        },
      },
    });
    const pod = buildStatefulSet(r, 1).spec!.template.spec!;
    expect(pod.nodeSelector).toEqual({ pool: 'media' });
    expect(pod.tolerations).toEqual([{ key: 'media', operator: 'Exists', effect: 'NoSchedule' }]);
    const terms =
      pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms).toHaveLength(2);
    for (const t of terms) {
      expect(t.matchExpressions).toEqual(
        expect.arrayContaining([
          { key: 'topology.kubernetes.io/region', operator: 'In', values: ['eu-west'] },
          { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-a'] },
        ]),
      );
    }
    expect(pod.affinity!.podAntiAffinity).toBeDefined();
    // The spec is not mutated.
    expect(
      (
        r.spec.placement!.affinity as {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: Array<{ matchExpressions: unknown[] }>;
            };
          };
        }
      ).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]!
        .matchExpressions,
    ).toHaveLength(1);
  });

  test('no placement: one term with the region label', () => {
    expect(
      buildAffinity(region).nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    ).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'topology.kubernetes.io/region', operator: 'In', values: ['eu-west'] },
          ],
        },
      ],
    });
  });

  test('headless Service, PDB maxUnavailable 1, ConfigMap with the pod config', () => {
    const svc = buildService(region);
    expect(svc.metadata?.name).toBe('eu-media');
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const pdb = buildPodDisruptionBudget(region);
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'amphi-media-pod',
          'amphi.dev/media-region': 'eu',
        },
      },
    });
    const cm = buildConfigMap(region);
    expect(cm.metadata?.name).toBe('eu-media-config');
    expect(JSON.parse(cm.data!['config.json']!)).toMatchObject({
      region: 'eu-west',
      workers: 2,
      basePort: 40000,
      announce: { policy: 'NodeExternalIP' },
      drainDeadlineSeconds: 600,
    });
    for (const o of [svc, pdb, cm]) expect(o.metadata?.ownerReferences?.[0]?.controller).toBe(true);
  });

  test('the config hash annotation changes with the config, not with replicas', () => {
    const a = buildStatefulSet(region, 1).spec!.template.metadata!.annotations!;
    expect(buildStatefulSet(region, 4).spec!.template.metadata!.annotations).toEqual(a);
    expect(configHash(fixtureRegion({ drain: { deadlineSeconds: 5 } }))).not.toBe(
      configHash(region),
    );
  });
});
