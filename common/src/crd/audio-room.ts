// AudioRoom: one live-audio room. Defined once here; the CRD YAML and types derive from it.
import { Type, type Static } from '@sinclair/typebox';
import { cel, Conditions, StringEnum } from './schema-helpers.js';

export const ROOM_PHASES = ['Pending', 'Scheduled', 'Live', 'Draining', 'Ended'] as const;
export type RoomPhase = (typeof ROOM_PHASES)[number];
export const SHARD_ROLES = ['origin', 'edge'] as const;
export const SHARD_STATES = ['Pending', 'Ready', 'Draining'] as const;

export const AudioRoomSpec = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    regions: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
        description: 'Preferred regions, best first; any region with capacity when empty.',
        maxItems: 8,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    sharding: Type.Object(
      {
        listenersPerShard: Type.Integer({
          description: 'Listeners an edge shard takes before the room gets another one.',
          minimum: 10,
          maximum: 100000,
          default: 500,
        }),
        maxShards: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
      },
      { default: {} },
    ),
    speakerLimit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    lifecycle: Type.Optional(
      Type.Object(
        {
          startAt: Type.Optional(Type.String({ format: 'date-time' })),
          endAt: Type.Optional(Type.String({ format: 'date-time' })),
        },
        {
          ...cel({
            rule: '!has(self.startAt) || !has(self.endAt) || timestamp(self.endAt) > timestamp(self.startAt)',
            message: 'endAt must be after startAt',
            fieldPath: '.endAt',
          }),
        },
      ),
    ),
  },
  {
    ...cel({
      rule: '!has(oldSelf.regions) || !has(self.regions) || self.regions == oldSelf.regions || size(oldSelf.regions) == 0',
      message: 'regions cannot change once set; end the room and create a new one',
      fieldPath: '.regions',
    }),
  },
);

export const Shard = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 63 }),
  role: StringEnum(SHARD_ROLES),
  region: Type.String({ maxLength: 63 }),
  node: Type.String({ maxLength: 253, description: 'Media pod (node registry id).' }),
  worker: Type.Integer({ minimum: 0, maximum: 63 }),
  listeners: Type.Integer({ minimum: 0 }),
  state: StringEnum(SHARD_STATES),
});

export const AudioRoomStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  phase: Type.Optional(StringEnum(ROOM_PHASES)),
  region: Type.Optional(Type.String({ maxLength: 63 })),
  shards: Type.Optional(
    Type.Array(Shard, {
      maxItems: 1000,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['id'],
    }),
  ),
  shardCount: Type.Optional(Type.Integer({ minimum: 0 })),
  listeners: Type.Optional(Type.Integer({ minimum: 0 })),
  speakers: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
});

export type AudioRoomSpec = Static<typeof AudioRoomSpec>;
export type AudioRoomStatus = Static<typeof AudioRoomStatus>;
export type Shard = Static<typeof Shard>;
