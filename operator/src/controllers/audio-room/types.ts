// The AudioRoom and MediaRegion objects as this controller reads them, and its names.
import type { AudioRoomSpec, AudioRoomStatus } from '../../../../common/src/crd/audio-room.js';
import type { MediaRegionSpec } from '../../../../common/src/crd/media-region.js';
import {
  AUDIO_ROOM,
  GROUP,
  MEDIA_REGION,
  VERSION,
} from '../../../../common/src/crd/definitions.js';
import type { KubeObject } from '../../runtime/keys.js';

type Meta = NonNullable<KubeObject['metadata']> & {
  name: string;
  namespace: string;
  creationTimestamp?: string;
};

export interface AudioRoom extends KubeObject {
  metadata: Meta;
  spec: AudioRoomSpec;
  status?: AudioRoomStatus;
}

export interface MediaRegionObject extends KubeObject {
  metadata: Meta;
  spec: MediaRegionSpec;
}

export const ROOM_RESOURCE = { group: GROUP, version: VERSION, plural: AUDIO_ROOM.plural } as const;
export const REGION_RESOURCE = {
  group: GROUP,
  version: VERSION,
  plural: MEDIA_REGION.plural,
} as const;

/** Held while the room has shards in the routing table; released after they are unassigned. */
export const ROOM_FINALIZER = 'amphi.dev/room-shards';
/** The one field manager of the operator's writes. */
export const FIELD_MANAGER = 'amphi-operator';
export const CONTROLLER_NAME = 'audioroom';

export const CONDITION_SCHEDULED = 'Scheduled';
export const CONDITION_READY = 'Ready';
