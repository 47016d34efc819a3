// Finalizer helpers (after controllerutil) and a merge-patch writer for them. The patch carries
// metadata.resourceVersion: a merge patch replaces the whole list, so without it a concurrent
// writer's finalizer could be dropped; with it the apiserver answers 409 and we retry.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeObject } from './keys.js';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Adds finalizer to obj in place; returns whether it was missing. */
export function addFinalizer(obj: KubeObject, finalizer: string): boolean {
  if (hasFinalizer(obj, finalizer)) return false;
  obj.metadata ??= {};
  obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), finalizer];
  return true;
}

/** Removes finalizer from obj in place; returns whether it was present. */
export function removeFinalizer(obj: KubeObject, finalizer: string): boolean {
  if (!hasFinalizer(obj, finalizer)) return false;
  obj.metadata!.finalizers = obj.metadata!.finalizers!.filter((f) => f !== finalizer);
  return true;
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return !!obj.metadata?.deletionTimestamp;
}

/** The JSON merge patch that sets obj's finalizers, guarded by its resourceVersion. */
export function finalizersPatch(obj: KubeObject): {
  metadata: { finalizers: string[] | null; resourceVersion?: string };
} {
  const finalizers = obj.metadata?.finalizers ?? [];
  const rv = obj.metadata?.resourceVersion;
  return {
    metadata: {
      // null deletes the field in a merge patch; [] would too, but null reads as intent.
      finalizers: finalizers.length > 0 ? finalizers : null,
      ...(rv ? { resourceVersion: rv } : {}),
    },
  };
}

/** Sends a JSON merge patch for obj; returns the updated object. */
export type MergePatcher<T extends KubeObject> = (obj: T, patch: object) => Promise<T>;

/** A MergePatcher for a custom resource, with the merge-patch content type set. */
export function customObjectPatcher<T extends KubeObject>(
  api: Pick<CustomObjectsApi, 'patchNamespacedCustomObject' | 'patchClusterCustomObject'>,
  resource: { group: string; version: string; plural: string },
): MergePatcher<T> {
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return async (obj, body) => {
    const name = obj.metadata?.name ?? '';
    const namespace = obj.metadata?.namespace;
    const result: unknown = namespace
      ? await api.patchNamespacedCustomObject({ ...resource, namespace, name, body }, options)
      : await api.patchClusterCustomObject({ ...resource, name, body }, options);
    return result as T;
  };
}

/** Adds finalizer and patches if it was missing; returns the (possibly) updated object. */
export async function ensureFinalizer<T extends KubeObject>(
  patch: MergePatcher<T>,
  obj: T,
  finalizer: string,
): Promise<T> {
  const copy = structuredClone(obj);
  if (!addFinalizer(copy, finalizer)) return obj;
  return patch(copy, finalizersPatch(copy));
}

/** Removes finalizer and patches if it was present; returns the (possibly) updated object. */
export async function releaseFinalizer<T extends KubeObject>(
  patch: MergePatcher<T>,
  obj: T,
  finalizer: string,
): Promise<T> {
  const copy = structuredClone(obj);
  if (!removeFinalizer(copy, finalizer)) return obj;
  return patch(copy, finalizersPatch(copy));
}
