// Adapts client-node to the informer's ListWatchSource: any list call, plus a raw Watch with
// bookmarks and a server-side timeout so watches are recycled regularly.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './keys.js';
import type { ListWatchSource, WatchEventType, WatchHandle } from './informer.js';

export interface KubeListWatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout; default 5–10 min at random, as client-go's reflector. */
  timeoutSeconds?: () => number;
}

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

/**
 * path: the collection URL, e.g. /apis/amphi.dev/v1alpha1/namespaces/ns/rooms (or without the
 * namespace for all). list: the matching list call with the same selectors, e.g.
 * () => customObjects.listNamespacedCustomObject({...}). Prefer calls that return plain JSON
 * (custom objects): typed calls turn timestamps into Dates while watch events keep strings.
 */
export function kubeListWatch<T extends KubeObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubeList<T>>,
  options: KubeListWatchOptions = {},
): ListWatchSource<T> {
  const timeoutSeconds = options.timeoutSeconds ?? (() => Math.floor(300 * (1 + Math.random())));
  return {
    async list() {
      const result = await list();
      return { items: result.items ?? [], resourceVersion: result.metadata?.resourceVersion ?? '' };
    },
    watch(resourceVersion, onEvent, onDone): WatchHandle {
      let aborted = false;
      let controller: AbortController | undefined;
      const done = (err: unknown): void => {
        if (aborted) return;
        aborted = true;
        // client-node ends a watch idle for 30 s with a TimeoutError: a normal close for us.
        const e = err as { name?: string } | null;
        onDone(e && e.name !== 'TimeoutError' ? err : null);
      };
      const query: Record<string, string | number | boolean> = {
        allowWatchBookmarks: true,
        timeoutSeconds: timeoutSeconds(),
      };
      if (resourceVersion) query.resourceVersion = resourceVersion;
      if (options.labelSelector) query.labelSelector = options.labelSelector;
      if (options.fieldSelector) query.fieldSelector = options.fieldSelector;
      new Watch(kc)
        .watch(
          path,
          query,
          (type: string, obj: unknown) => {
            if (!aborted) onEvent(type as WatchEventType, obj as T);
          },
          done,
        )
        .then((c) => {
          controller = c;
          if (aborted) c.abort();
        }, done);
      return {
        abort() {
          aborted = true;
          controller?.abort();
        },
      };
    },
  };
}
