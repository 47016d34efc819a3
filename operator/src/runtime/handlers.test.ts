import { describe, expect, it } from '@jest/globals';
import {
  enqueueForObject,
  enqueueForOwner,
  enqueueMapped,
  generationChanged,
  ownerKeys,
} from './handlers.js';
import type { KubeObject } from './keys.js';

const ROOM = { apiVersion: 'amphi.dev/v1alpha1', kind: 'Room' };

function owned(
  ns: string | undefined,
  refs: Array<Partial<{ apiVersion: string; kind: string; name: string; controller: boolean }>>,
): KubeObject {
  return {
    metadata: {
      name: 'child',
      ...(ns ? { namespace: ns } : {}),
      ownerReferences: refs.map((r) => ({ uid: 'u', name: 'x', ...ROOM, ...r })),
    },
  };
}

function recorder() {
  const keys: string[] = [];
  return { keys, queue: { add: (k: string) => void keys.push(k) } };
}

describe('ownerKeys', () => {
  it('maps the controller owner to its namespaced key, comparing group and kind only', () => {
    const obj = owned('ns', [
      { name: 'r1', controller: true, apiVersion: 'amphi.dev/v1' }, // another version: same group
      { name: 'r2' }, // not the controller
      { name: 'd', kind: 'Deployment', apiVersion: 'apps/v1', controller: true },
      { name: 'o', apiVersion: 'other.dev/v1alpha1', controller: true },
    ]);
    expect(ownerKeys(obj, ROOM)).toEqual(['ns/r1']);
    expect(ownerKeys(obj, { ...ROOM, onlyController: false })).toEqual(['ns/r1', 'ns/r2']);
  });

  it('handles core-group owners and cluster-scoped owners', () => {
    const obj = owned('ns', [
      { name: 'cm', apiVersion: 'v1', kind: 'ConfigMap', controller: true },
    ]);
    expect(ownerKeys(obj, { apiVersion: 'v1', kind: 'ConfigMap' })).toEqual(['ns/cm']);
    expect(ownerKeys(obj, { apiVersion: 'v1', kind: 'ConfigMap', clusterScoped: true })).toEqual([
      'cm',
    ]);
    expect(ownerKeys(owned(undefined, [{ name: 'r', controller: true }]), ROOM)).toEqual(['r']);
  });
});

describe('event handlers', () => {
  it('enqueueForObject enqueues the object key on every notification', () => {
    const { keys, queue } = recorder();
    const h = enqueueForObject(queue);
    const o: KubeObject = { metadata: { namespace: 'ns', name: 'a' } };
    h.onAdd?.(o);
    h.onUpdate?.(o, o);
    h.onDelete?.(o);
    h.onResync?.(o);
    expect(keys).toEqual(['ns/a', 'ns/a', 'ns/a', 'ns/a']);
  });

  it('enqueueForOwner enqueues old and new owners once each on update', () => {
    const { keys, queue } = recorder();
    const h = enqueueForOwner(queue, ROOM);
    const before = owned('ns', [{ name: 'r1', controller: true }]);
    const after = owned('ns', [{ name: 'r2', controller: true }]);
    h.onUpdate?.(before, after);
    h.onUpdate?.(after, after);
    expect(keys).toEqual(['ns/r1', 'ns/r2', 'ns/r2']);
  });

  it('applies an update predicate such as generationChanged', () => {
    const { keys, queue } = recorder();
    const h = enqueueMapped<KubeObject>(queue, (o) => [o.metadata!.name!], generationChanged);
    const gen = (g: number | undefined): KubeObject => ({
      metadata: { name: `g${g}`, ...(g === undefined ? {} : { generation: g }) },
    });
    h.onUpdate?.(gen(1), { ...gen(1) }); // status-only change: skipped
    h.onUpdate?.(gen(1), gen(2));
    h.onUpdate?.(gen(undefined), gen(undefined)); // no generation: always
    h.onAdd?.(gen(3)); // adds are not filtered
    expect(keys).toEqual(['g1', 'g2', 'gundefined', 'g3']);
  });
});
