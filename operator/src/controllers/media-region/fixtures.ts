// Test fixtures: a MediaRegion with every default filled in, as the API server returns it.
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import type { MediaRegion } from './types.js';

export function fixtureRegion(spec: Partial<MediaRegion['spec']> = {}): MediaRegion {
  return {
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'MediaRegion',
    metadata: { name: 'eu', namespace: 'amphi', uid: 'uid-1', generation: 3, resourceVersion: '7' },
    spec: {
      region: 'eu-west',
      mediaPod: { image: 'amphi/media-pod:1', workersPerPod: 2, basePort: 40000 },
      addresses: { policy: 'NodeExternalIP' },
      capacity: {
        listenersPerWorker: 100,
        targetUtilizationPercent: 70,
        highWatermarkPercent: 80,
        lowWatermarkPercent: 30,
      },
      minReplicas: 1,
      maxReplicas: 5,
      drain: { deadlineSeconds: 600 },
      ...spec,
    },
  };
}

export function fixtureBeat(node: string, streams: number, region = 'eu-west'): NodeHeartbeat {
  return {
    node,
    region,
    zone: `${region}-a`,
    k8sNode: 'n1',
    announcedAddress: '203.0.113.1',
    signalingUrl: '',
    pipeUrl: '',
    draining: false,
    startedAt: 0,
    sentAt: 0,
    seq: 0,
    workers: [
      {
        index: 0,
        alive: true,
        port: 40000,
        consumers: streams,
        producers: 0,
        routers: 1,
        cpuPercent: 0,
      },
    ],
    shards: [],
  };
}
