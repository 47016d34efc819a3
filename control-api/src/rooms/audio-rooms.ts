// The AudioRoom custom resources of the configured namespace: created and deleted by the API,
// read for phase and region; rooms made with kubectl appear the same way.
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { AudioRoomSpec, AudioRoomStatus } from '../../../common/src/crd/audio-room.js';
import { API_VERSION, AUDIO_ROOM, GROUP, VERSION } from '../../../common/src/crd/definitions.js';
import { HttpProblem } from '../http/problem.js';

export interface AudioRoomObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    creationTimestamp?: string;
    generation?: number;
    labels?: Record<string, string>;
  };
  spec: AudioRoomSpec;
  status?: AudioRoomStatus;
}

export interface AudioRoomList {
  items: AudioRoomObject[];
  continue: string | undefined;
}

/** What the control API needs of the Kubernetes API (a fake in unit tests). */
export interface AudioRooms {
  create(
    name: string,
    spec: AudioRoomSpec,
    labels: Record<string, string>,
  ): Promise<AudioRoomObject>;
  get(name: string): Promise<AudioRoomObject | undefined>;
  list(limit: number, cont: string | undefined): Promise<AudioRoomList>;
  delete(name: string): Promise<boolean>;
}

export class KubeAudioRooms implements AudioRooms {
  readonly #api: CustomObjectsApi;
  readonly #base: { group: string; version: string; namespace: string; plural: string };

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.#api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#base = { group: GROUP, version: VERSION, namespace, plural: AUDIO_ROOM.plural };
  }

  async create(
    name: string,
    spec: AudioRoomSpec,
    labels: Record<string, string>,
  ): Promise<AudioRoomObject> {
    const body = {
      apiVersion: API_VERSION,
      kind: AUDIO_ROOM.kind,
      metadata: { name, namespace: this.#base.namespace, labels },
      spec,
    };
    return (await kube(
      () => this.#api.createNamespacedCustomObject({ ...this.#base, body }),
      name,
    )) as AudioRoomObject;
  }

  async get(name: string): Promise<AudioRoomObject | undefined> {
    try {
      return (await kube(
        () => this.#api.getNamespacedCustomObject({ ...this.#base, name }),
        name,
      )) as AudioRoomObject;
    } catch (error) {
      if (error instanceof HttpProblem && error.kind === 'room-not-found') return undefined;
      throw error;
    }
  }

  async list(limit: number, cont: string | undefined): Promise<AudioRoomList> {
    const result = (await kube(
      () =>
        this.#api.listNamespacedCustomObject({
          ...this.#base,
          limit,
          ...(cont ? { _continue: cont } : {}),
        }),
      '',
    )) as { items: AudioRoomObject[]; metadata?: { continue?: string } };
    return { items: result.items, continue: result.metadata?.continue || undefined };
  }

  async delete(name: string): Promise<boolean> {
    try {
      await kube(() => this.#api.deleteNamespacedCustomObject({ ...this.#base, name }), name);
      return true;
    } catch (error) {
      if (error instanceof HttpProblem && error.kind === 'room-not-found') return false;
      throw error;
    }
  }
}

/** Kubernetes API errors as problems: 404, 409, 410 and 422 are the client's; the rest is ours (503). */
async function kube<T>(call: () => Promise<T>, name: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiException) {
      const code = error.code;
      const message = statusMessage(error.body);
      if (code === 404) throw new HttpProblem('room-not-found', `no room ${name}`);
      if (code === 409) throw new HttpProblem('room-exists', `a room named ${name} exists`);
      if (code === 410)
        throw new HttpProblem('validation-error', 'the continue token has expired; list again');
      if (code === 422 || code === 400)
        throw new HttpProblem('validation-error', message || 'rejected by Kubernetes');
      throw new HttpProblem('unavailable', `Kubernetes API answered ${code}`);
    }
    throw new HttpProblem('unavailable', `Kubernetes API unreachable: ${(error as Error).message}`);
  }
}

function statusMessage(body: unknown): string {
  try {
    return (JSON.parse(String(body)) as { message?: string }).message ?? '';
  } catch {
    return '';
  }
}
