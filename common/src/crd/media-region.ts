// MediaRegion: a regional pool of media pods. Defined once here; the CRD YAML and the TypeScript
// types derive from it (common/src/crd/generate.ts).
import { Type, type Static } from '@sinclair/typebox';
import { cel, Conditions, immutable, Opaque, StringEnum } from './schema-helpers.js';

export const ADDRESS_POLICIES = [
  'NodeExternalIP',
  'NodeInternalIP',
  'Static',
  'LoadBalancer',
] as const;
export type AddressPolicy = (typeof ADDRESS_POLICIES)[number];

const dns1123Label = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const MediaRegionSpec = Type.Object(
  {
    region: Type.String({
      description: "Region name, matched against the nodes' topology.kubernetes.io/region label.",
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
      ...cel(immutable('region')),
    }),
    zones: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
        description:
          'Zones to spread media pods over (topology.kubernetes.io/zone); all when empty.',
        maxItems: 16,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    location: Type.Optional(
      Type.Object(
        {
          latitude: Type.Number({ minimum: -90, maximum: 90 }),
          longitude: Type.Number({ minimum: -180, maximum: 180 }),
        },
        { description: 'Where the region is, for routing clients to the nearest one.' },
      ),
    ),
    placement: Type.Optional(
      Type.Object(
        {
          nodeSelector: Type.Optional(
            Type.Record(Type.String(), Type.String({ maxLength: 63 }), {
              description: 'Extra node labels the media pods require.',
              maxProperties: 16,
            }),
          ),
          tolerations: Type.Optional(
            Type.Array(Opaque<Record<string, unknown>>('A core/v1 Toleration.'), { maxItems: 16 }),
          ),
          affinity: Type.Optional(Opaque<Record<string, unknown>>('A core/v1 Affinity.')),
        },
        { description: 'Where the media pods may run, beyond the region label.' },
      ),
    ),
    mediaPod: Type.Object(
      {
        image: Type.String({ minLength: 1, maxLength: 512 }),
        workersPerPod: Type.Integer({
          description: 'mediasoup workers per pod; one per core it is given.',
          minimum: 1,
          maximum: 64,
          default: 2,
        }),
        basePort: Type.Integer({
          description: 'UDP+TCP port of worker 0; worker i listens on basePort+i (hostPort).',
          minimum: 1024,
          maximum: 65535,
          default: 40000,
        }),
        resources: Type.Optional(Opaque<Record<string, unknown>>('core/v1 ResourceRequirements.')),
      },
      {
        ...cel({
          rule: 'self.basePort + self.workersPerPod - 1 <= 65535',
          message: 'basePort + workersPerPod - 1 must be a valid port (<= 65535)',
          fieldPath: '.basePort',
        }),
      },
    ),
    addresses: Type.Object(
      {
        policy: StringEnum(ADDRESS_POLICIES, {
          description: 'How media pods announce their address in ICE candidates.',
          default: 'NodeExternalIP',
        }),
        staticAddress: Type.Optional(
          Type.String({
            description: 'Announced address when policy is Static.',
            minLength: 1,
            maxLength: 253,
          }),
        ),
      },
      {
        default: { policy: 'NodeExternalIP' },
        ...cel({
          rule: "self.policy != 'Static' || has(self.staticAddress)",
          message: 'staticAddress is required when policy is Static',
          fieldPath: '.staticAddress',
        }),
      },
    ),
    capacity: Type.Object(
      {
        listenersPerWorker: Type.Integer({
          description: 'Listener streams one worker carries at 100% utilisation.',
          minimum: 1,
          maximum: 100000,
          default: 500,
        }),
        targetUtilizationPercent: Type.Integer({ minimum: 1, maximum: 100, default: 70 }),
        highWatermarkPercent: Type.Integer({ minimum: 1, maximum: 100, default: 80 }),
        lowWatermarkPercent: Type.Integer({ minimum: 0, maximum: 99, default: 30 }),
      },
      {
        default: {},
        ...cel({
          rule: 'self.lowWatermarkPercent < self.highWatermarkPercent',
          message: 'lowWatermarkPercent must be below highWatermarkPercent',
        }),
      },
    ),
    minReplicas: Type.Integer({ minimum: 0, maximum: 1000, default: 1 }),
    maxReplicas: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
    drain: Type.Object(
      {
        deadlineSeconds: Type.Integer({
          description: 'How long a draining media pod may keep its listeners before it is removed.',
          minimum: 0,
          maximum: 86400,
          default: 3600,
        }),
      },
      { default: {} },
    ),
  },
  {
    ...cel({
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'minReplicas must not exceed maxReplicas',
      fieldPath: '.minReplicas',
    }),
  },
);

export const MediaRegionStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  replicas: Type.Optional(Type.Integer({ minimum: 0 })),
  readyReplicas: Type.Optional(Type.Integer({ minimum: 0 })),
  selector: Type.Optional(
    Type.String({ description: 'Label selector of the media pods (scale).' }),
  ),
  capacity: Type.Optional(
    Type.Object({
      total: Type.Integer({
        minimum: 0,
        description: 'Listener streams the ready pods can carry.',
      }),
      used: Type.Integer({ minimum: 0 }),
    }),
  ),
  rooms: Type.Optional(Type.Integer({ minimum: 0 })),
  drainingPods: Type.Optional(
    Type.Array(Type.String({ pattern: dns1123Label }), { maxItems: 1000 }),
  ),
  conditions: Type.Optional(Conditions),
});

export type MediaRegionSpec = Static<typeof MediaRegionSpec>;
export type MediaRegionStatus = Static<typeof MediaRegionStatus>;
