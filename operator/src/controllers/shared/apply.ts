// Server-side apply for the operator's owned objects: one field manager, conflicts forced, so the
// operator's fields always win and fields it stops sending are removed by the API server.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

export const OPERATOR_FIELD_MANAGER = 'amphi-operator';

/** Applies a complete intent (apiVersion, kind, metadata.name/namespace required). */
export interface Applier {
  apply<T extends KubernetesObject>(obj: T): Promise<T>;
}

/** A server-side Applier on client-node's KubernetesObjectApi (discovery resolves the plural). */
export function serverSideApplier(kc: KubeConfig, fieldManager = OPERATOR_FIELD_MANAGER): Applier {
  const api = KubernetesObjectApi.makeApiClient(kc);
  return {
    apply: <T extends KubernetesObject>(obj: T): Promise<T> =>
      api.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
  };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

/** JSON merge patch of a namespaced custom object's status subresource; returns the object. */
export function statusMergePatcher(
  kc: KubeConfig,
  resource: CustomResource,
): (namespace: string, name: string, status: object) => Promise<unknown> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (namespace, name, status) =>
    api.patchNamespacedCustomObjectStatus(
      { ...resource, namespace, name, body: { status } },
      mergePatch,
    );
}

/** JSON merge patch of a Pod's annotations (null removes one); a missing Pod is not an error. */
export function podAnnotator(
  kc: KubeConfig,
): (
  namespace: string,
  name: string,
  annotations: Record<string, string | null>,
) => Promise<boolean> {
  const api = kc.makeApiClient(CoreV1Api);
  return async (namespace, name, annotations) => {
    try {
      await api.patchNamespacedPod(
        { namespace, name, body: { metadata: { annotations } } },
        mergePatch,
      );
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return false;
      throw err;
    }
  };
}
