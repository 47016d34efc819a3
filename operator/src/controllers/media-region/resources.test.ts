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

  test('env: region, workers, base port, announce policy, downward API pod and node name', () => {
    const env = buildStatefulSet(
      fixtureRegion({ addresses: { policy: 'Static', staticAddress: '198.51.100.9' } }),
      1,
    ).spec!.template.spec!.containers[0]!.env!;
    const byName = new Map(env.map((e) => [e.name, e]));
    expect(byName.get('AMPHI_REGION')?.value).toBe('eu-west');
    expect(byName.get('AMPHI_WORKERS')?.value).toBe('2');
    expect(byName.get('AMPHI_BASE_PORT')?.value).toBe('40000');
    expect(byName.get('AMPHI_ANNOUNCE_POLICY')?.value).toBe('Static');
    expect(byName.get('AMPHI_STATIC_ADDRESS')?.value).toBe('198.51.100.9');
    expect(byName.get('AMPHI_POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(byName.get('AMPHI_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
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
