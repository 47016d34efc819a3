// The CustomResourceDefinitions, assembled from the schemas in this folder.
import type { TSchema } from '@sinclair/typebox';
import { AudioRoomSpec, AudioRoomStatus } from './audio-room.js';
import { MediaRegionSpec, MediaRegionStatus } from './media-region.js';

export const GROUP = 'amphi.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ResourceNames {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
}

export const MEDIA_REGION: ResourceNames = {
  kind: 'MediaRegion',
  plural: 'mediaregions',
  singular: 'mediaregion',
  shortNames: ['mreg'],
};
export const AUDIO_ROOM: ResourceNames = {
  kind: 'AudioRoom',
  plural: 'audiorooms',
  singular: 'audioroom',
  shortNames: ['room', 'rooms'],
};

/**
 * A TypeBox schema as a Kubernetes structural schema: symbols dropped, records as
 * additionalProperties (structural schemas forbid patternProperties).
 */
export function toStructural(schema: TSchema): Record<string, unknown> {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'patternProperties') {
        const values = Object.values(value as Record<string, unknown>);
        if (values.length !== 1) throw new Error('only single-pattern records are supported');
        out.additionalProperties = walk(values[0]);
      } else {
        out[key] = walk(value);
      }
    }
    // The API server validates a default as given, without defaulting inside it: an object's
    // `default: {}` must carry its fields' defaults or its required fields and CEL rules fail.
    if (isPlainObject(out.default) && isPlainObject(out.properties)) {
      out.default = withNestedDefaults(out.default, out.properties);
    }
    return out;
  };
  return walk(schema) as Record<string, unknown>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** value with every missing property that has a default filled in, recursively. */
function withNestedDefaults(
  value: Record<string, unknown>,
  properties: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [name, prop] of Object.entries(properties)) {
    if (!isPlainObject(prop)) continue;
    if (out[name] === undefined && prop.default !== undefined) out[name] = prop.default;
    if (isPlainObject(out[name]) && isPlainObject(prop.properties)) {
      out[name] = withNestedDefaults(out[name], prop.properties);
    }
  }
  return out;
}

function crd(
  names: ResourceNames,
  spec: TSchema,
  status: TSchema,
  extra: { printerColumns: unknown[]; scale?: unknown },
): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'amphi' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { ...names, listKind: `${names.kind}List`, categories: ['amphi'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {}, ...(extra.scale ? { scale: extra.scale } : {}) },
          additionalPrinterColumns: extra.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toStructural(spec),
                status: toStructural(status),
              },
            },
          },
        },
      ],
    },
  };
}

const readyColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const mediaRegionCrd = (): Record<string, unknown> =>
  crd(MEDIA_REGION, MediaRegionSpec, MediaRegionStatus, {
    printerColumns: [
      { name: 'Region', type: 'string', jsonPath: '.spec.region' },
      { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
      { name: 'Ready-Pods', type: 'integer', jsonPath: '.status.readyReplicas' },
      { name: 'Rooms', type: 'integer', jsonPath: '.status.rooms' },
      { name: 'Capacity', type: 'integer', jsonPath: '.status.capacity.total' },
      { name: 'Used', type: 'integer', jsonPath: '.status.capacity.used' },
      readyColumn,
      ageColumn,
    ],
    // `kubectl scale` raises the floor; load scaling works between it and maxReplicas.
    scale: {
      specReplicasPath: '.spec.minReplicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    },
  });

export const audioRoomCrd = (): Record<string, unknown> =>
  crd(AUDIO_ROOM, AudioRoomSpec, AudioRoomStatus, {
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Region', type: 'string', jsonPath: '.status.region' },
      { name: 'Shards', type: 'integer', jsonPath: '.status.shardCount' },
      { name: 'Listeners', type: 'integer', jsonPath: '.status.listeners' },
      { name: 'Speakers', type: 'integer', jsonPath: '.status.speakers', priority: 1 },
      { name: 'Title', type: 'string', jsonPath: '.spec.title', priority: 1 },
      ageColumn,
    ],
  });

export const allCrds = (): Array<{ file: string; object: Record<string, unknown> }> => [
  { file: 'amphi.dev_mediaregions.yaml', object: mediaRegionCrd() },
  { file: 'amphi.dev_audiorooms.yaml', object: audioRoomCrd() },
];
