// The three Kubernetes writes of the AudioRoom controller, behind a small interface (tests and the
// benchmark can count or fake them): status by server-side apply with the operator's field manager;
// the finalizer added by server-side apply of metadata.finalizers (a set: other managers' entries
// stay, no resourceVersion, so it can run alongside the status apply without a 409; an apply to a
// deleted room cannot recreate it, spec is required) or, in 'merge-patch' mode, by a
// resourceVersion-guarded merge patch; and released by the guarded merge patch.
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
  /** addFinalizer and applyStatus of one room may be in flight together (no resourceVersion guard). */
  readonly concurrentFinalizer?: boolean;
}

export interface KubeRoomWriterOptions {
  /** How the finalizer is added. Default 'apply'. */
  addFinalizer?: 'apply' | 'merge-patch';
}

type Api = Pick<
  CustomObjectsApi,
  'patchNamespacedCustomObjectStatus' | 'patchNamespacedCustomObject' | 'patchClusterCustomObject'
>;

export function kubeRoomWriter(api: Api, options: KubeRoomWriterOptions = {}): RoomWriter {
  const byApply = (options.addFinalizer ?? 'apply') === 'apply';
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
    addFinalizer: byApply
      ? async (room) => {
          if (room.metadata.finalizers?.includes(ROOM_FINALIZER)) return room;
          const result: unknown = await api.patchNamespacedCustomObject(
            {
              ...ROOM_RESOURCE,
              namespace: room.metadata.namespace,
              name: room.metadata.name,
              body: {
                apiVersion: API_VERSION,
                kind: AUDIO_ROOM.kind,
                metadata: {
                  name: room.metadata.name,
                  namespace: room.metadata.namespace,
                  finalizers: [ROOM_FINALIZER],
                },
              },
              fieldManager: FIELD_MANAGER,
              force: true,
            },
            apply,
          );
          return result as AudioRoom;
        }
      : (room) => ensureFinalizer(patch, room, ROOM_FINALIZER),
    removeFinalizer: (room) => releaseFinalizer(patch, room, ROOM_FINALIZER),
    concurrentFinalizer: byApply,
  };
}
