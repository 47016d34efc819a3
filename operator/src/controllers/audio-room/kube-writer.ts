// The three Kubernetes writes of the AudioRoom controller, behind a small interface (tests and the
// benchmark can count or fake them): status by server-side apply with the operator's field manager,
// and the finalizer by a resourceVersion-guarded merge patch.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { AudioRoomStatus } from '../../../../common/src/crd/audio-room.js';
import { API_VERSION, AUDIO_ROOM } from '../../../../common/src/crd/definitions.js';
import {
  customObjectPatcher,
  ensureFinalizer,
  releaseFinalizer,
} from '../../runtime/finalizers.js';
import { FIELD_MANAGER, ROOM_FINALIZER, ROOM_RESOURCE, type AudioRoom } from './types.js';

export interface RoomWriter {
  /** Applies status (the whole of it: fields this manager no longer sets are removed). */
  applyStatus(room: AudioRoom, status: AudioRoomStatus): Promise<AudioRoom>;
  addFinalizer(room: AudioRoom): Promise<AudioRoom>;
  removeFinalizer(room: AudioRoom): Promise<AudioRoom>;
}

type Api = Pick<
  CustomObjectsApi,
  'patchNamespacedCustomObjectStatus' | 'patchNamespacedCustomObject' | 'patchClusterCustomObject'
>;

export function kubeRoomWriter(api: Api): RoomWriter {
  const patch = customObjectPatcher<AudioRoom>(api, ROOM_RESOURCE);
  const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  return {
    async applyStatus(room, status) {
      const result: unknown = await api.patchNamespacedCustomObjectStatus(
        {
          ...ROOM_RESOURCE,
          namespace: room.metadata.namespace,
          name: room.metadata.name,
          body: {
            apiVersion: API_VERSION,
            kind: AUDIO_ROOM.kind,
            metadata: { name: room.metadata.name, namespace: room.metadata.namespace },
            status,
          },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        apply,
      );
      return result as AudioRoom;
    },
    addFinalizer: (room) => ensureFinalizer(patch, room, ROOM_FINALIZER),
    removeFinalizer: (room) => releaseFinalizer(patch, room, ROOM_FINALIZER),
  };
}
