import { describe, expect, it } from '@jest/globals';
import {
  addFinalizer,
  customObjectPatcher,
  ensureFinalizer,
  finalizersPatch,
  hasFinalizer,
  isBeingDeleted,
  releaseFinalizer,
  removeFinalizer,
  type MergePatcher,
} from './finalizers.js';
import type { KubeObject } from './keys.js';

const F = 'amphi.dev/cleanup';

const room = (finalizers?: string[]): KubeObject => ({
  apiVersion: 'amphi.dev/v1alpha1',
  kind: 'Room',
  metadata: {
    namespace: 'ns',
    name: 'r',
    resourceVersion: '7',
    ...(finalizers ? { finalizers } : {}),
  },
});

describe('finalizers', () => {
  it('adds and removes in place, reporting whether anything changed', () => {
    const o = room();
    expect(hasFinalizer(o, F)).toBe(false);
    expect(addFinalizer(o, F)).toBe(true);
    expect(addFinalizer(o, F)).toBe(false);
    expect(o.metadata?.finalizers).toEqual([F]);
    expect(removeFinalizer(o, F)).toBe(true);
    expect(removeFinalizer(o, F)).toBe(false);
    expect(o.metadata?.finalizers).toEqual([]);
  });

  it('builds a merge patch guarded by resourceVersion; an empty list deletes the field', () => {
    expect(finalizersPatch(room(['a', F]))).toEqual({
      metadata: { finalizers: ['a', F], resourceVersion: '7' },
    });
    expect(finalizersPatch(room([]))).toEqual({
      metadata: { finalizers: null, resourceVersion: '7' },
    });
  });

  it('ensureFinalizer patches only when missing and leaves the input untouched', async () => {
    const patches: object[] = [];
    const patch: MergePatcher<KubeObject> = async (obj, body) => {
      patches.push(body);
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: '8' } };
    };
    const original = room(['other']);
    const updated = await ensureFinalizer(patch, original, F);
    expect(original.metadata?.finalizers).toEqual(['other']);
    expect(updated.metadata).toMatchObject({ finalizers: ['other', F], resourceVersion: '8' });
    expect(patches).toEqual([{ metadata: { finalizers: ['other', F], resourceVersion: '7' } }]);
    expect(await ensureFinalizer(patch, updated, F)).toBe(updated);
    expect(patches).toHaveLength(1);

    const released = await releaseFinalizer(patch, updated, F);
    expect(released.metadata?.finalizers).toEqual(['other']);
    expect(await releaseFinalizer(patch, released, F)).toBe(released);
    expect(patches).toHaveLength(2);
  });

  it('customObjectPatcher sends a merge patch to the namespaced or cluster endpoint', async () => {
    const calls: Array<{ kind: string; param: Record<string, unknown>; contentType?: string }> = [];
    const contentType = async (options: unknown): Promise<string | undefined> => {
      // setHeaderOptions returns middleware that sets the header on the outgoing request context.
      const headers: Record<string, string> = {};
      const ctx = { setHeaderParam: (k: string, v: string) => (headers[k] = v) };
      const mw = (
        options as { middleware: Array<{ pre: (c: unknown) => { toPromise(): Promise<unknown> } }> }
      ).middleware;
      for (const m of mw) await m.pre(ctx).toPromise();
      return headers['Content-Type'];
    };
    const api = {
      patchNamespacedCustomObject: async (param: Record<string, unknown>, options?: unknown) => {
        calls.push({ kind: 'ns', param, contentType: await contentType(options) });
        return param.body;
      },
      patchClusterCustomObject: async (param: Record<string, unknown>, options?: unknown) => {
        calls.push({ kind: 'cluster', param, contentType: await contentType(options) });
        return param.body;
      },
    };
    const patch = customObjectPatcher(api as never, {
      group: 'amphi.dev',
      version: 'v1alpha1',
      plural: 'rooms',
    });
    await patch(room(), { a: 1 });
    await patch({ metadata: { name: 'c' } }, { b: 2 });
    expect(calls).toEqual([
      {
        kind: 'ns',
        param: {
          group: 'amphi.dev',
          version: 'v1alpha1',
          plural: 'rooms',
          namespace: 'ns',
          name: 'r',
          body: { a: 1 },
        },
        contentType: 'application/merge-patch+json',
      },
      {
        kind: 'cluster',
        param: {
          group: 'amphi.dev',
          version: 'v1alpha1',
          plural: 'rooms',
          name: 'c',
          body: { b: 2 },
        },
        contentType: 'application/merge-patch+json',
      },
    ]);
  });

  it('isBeingDeleted follows deletionTimestamp', () => {
    expect(isBeingDeleted(room())).toBe(false);
    expect(isBeingDeleted({ metadata: { deletionTimestamp: '2025-01-01T00:00:00Z' } })).toBe(true);
  });
});
