// client-node 2.0's KubeConfig builds a new undici Agent for every request
// (applySecurityAuthentication → createDispatcher), so every API call opens a fresh TLS
// connection with a client-certificate handshake on both ends. Under a burst that handshake, not
// the write, is most of the apiserver's work. This KubeConfig view hands every request the same
// keep-alive dispatcher instead; it is replaced every `maxAgeMs` so rotated certificates (CA,
// client cert files) are picked up, the old one closing once its requests are done.
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export interface KeepAliveOptions {
  /** A shared dispatcher is used this long, then replaced. Default 5 min. */
  maxAgeMs?: number;
  now?: () => number;
}

/** A view of `kc` whose API clients (`makeApiClient`) reuse connections. */
export function keepAliveKubeConfig(kc: KubeConfig, options: KeepAliveOptions = {}): KubeConfig {
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let shared: { dispatcher: Dispatcher; since: number } | undefined;
  const view = Object.create(kc) as KubeConfig;
  view.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await kc.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return; // plain http, no TLS options: fetch's global pool
    const t = now();
    if (shared === undefined || t - shared.since >= maxAgeMs) {
      const old = shared?.dispatcher;
      shared = { dispatcher: fresh, since: t };
      void old?.close().catch(() => undefined);
      return;
    }
    // The fresh one never connected: nothing to close.
    context.setDispatcher(shared.dispatcher);
  };
  return view;
}
