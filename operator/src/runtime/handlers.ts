// Event handlers that turn informer notifications into work-queue keys, after controller-runtime's
// handler package: the object itself, its owner (EnqueueRequestForOwner), or any mapping.
import { apiGroup, objectKey, type KubeObject } from './keys.js';

export interface EventHandler<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
  /** Periodic resync: every cached object, so level-triggered reconcilers catch drift. */
  onResync?(obj: T): void;
}

/** Anything keys can be added to (a WorkQueue or a Controller). */
export interface Enqueuer {
  add(key: string): void;
}

/** Whether an update should enqueue; the other notifications always do. */
export type UpdatePredicate<T extends KubeObject> = (oldObj: T, newObj: T) => boolean;

/** Skips updates that do not change metadata.generation (status-only writes). */
export function generationChanged<T extends KubeObject>(oldObj: T, newObj: T): boolean {
  const before = oldObj.metadata?.generation;
  const after = newObj.metadata?.generation;
  // No generation (e.g. ConfigMaps): every update counts.
  return before === undefined || after === undefined || before !== after;
}

/** Builds a handler that enqueues the keys map(obj) returns (EnqueueRequestsFromMapFunc). */
export function enqueueMapped<T extends KubeObject>(
  queue: Enqueuer,
  map: (obj: T) => Iterable<string>,
  updatePredicate?: UpdatePredicate<T>,
): EventHandler<T> {
  const enqueue = (obj: T): void => {
    for (const key of map(obj)) queue.add(key);
  };
  return {
    onAdd: enqueue,
    onUpdate(oldObj, newObj) {
      if (updatePredicate && !updatePredicate(oldObj, newObj)) return;
      // Both: a change may move the object from one parent to another.
      const keys = new Set([...map(oldObj), ...map(newObj)]);
      for (const key of keys) queue.add(key);
    },
    onDelete: enqueue,
    onResync: enqueue,
  };
}

/** Enqueues the object's own key (the For() of a controller). */
export function enqueueForObject<T extends KubeObject>(
  queue: Enqueuer,
  updatePredicate?: UpdatePredicate<T>,
): EventHandler<T> {
  return enqueueMapped<T>(queue, (obj) => [objectKey(obj)], updatePredicate);
}

export interface OwnerMatch {
  /** The owner's apiVersion ("amphi.dev/v1alpha1"); only its group is compared, as in controller-runtime. */
  apiVersion: string;
  kind: string;
  /** Only the owner reference with controller: true (the default, like Owns()). */
  onlyController?: boolean;
  /** The owner is cluster-scoped: its key carries no namespace. */
  clusterScoped?: boolean;
}

/** Keys of the owners of obj that match (owners live in obj's namespace unless cluster-scoped). */
export function ownerKeys(obj: KubeObject, owner: OwnerMatch): string[] {
  const group = apiGroup(owner.apiVersion);
  const onlyController = owner.onlyController ?? true;
  const ns = obj.metadata?.namespace;
  const keys: string[] = [];
  for (const ref of obj.metadata?.ownerReferences ?? []) {
    if (ref.kind !== owner.kind || apiGroup(ref.apiVersion) !== group) continue;
    if (onlyController && ref.controller !== true) continue;
    keys.push(owner.clusterScoped || !ns ? ref.name : `${ns}/${ref.name}`);
  }
  return keys;
}

/** Enqueues the owner of an owned object (EnqueueRequestForOwner). */
export function enqueueForOwner<T extends KubeObject>(
  queue: Enqueuer,
  owner: OwnerMatch,
  updatePredicate?: UpdatePredicate<T>,
): EventHandler<T> {
  return enqueueMapped<T>(queue, (obj) => ownerKeys(obj, owner), updatePredicate);
}
