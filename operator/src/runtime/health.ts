// Probe and metrics endpoints on one small node:http server: /healthz (liveness), /readyz
// (readiness, e.g. informers synced) and /metrics (the Prometheus registry).
// Output follows the apiserver/controller-runtime style: "ok", or "[-]name failed: reason" lines.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A check passes by returning true (or nothing); false or throwing fails it. */
export type Check = () => boolean | void | Promise<boolean | void>;

export interface HealthServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  registry?: Registry;
}

export class HealthServer {
  readonly #healthz = new Map<string, Check>();
  readonly #readyz = new Map<string, Check>();
  readonly #options: HealthServerOptions;
  #server: Server | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
  }

  addHealthzCheck(name: string, check: Check): this {
    this.#healthz.set(name, check);
    return this;
  }

  addReadyzCheck(name: string, check: Check): this {
    this.#readyz.set(name, check);
    return this;
  }

  /** Listens; resolves with the bound port. */
  async start(): Promise<number> {
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, 'method not allowed\n');
      }
      if (url.pathname === '/metrics' && this.#options.registry) {
        const registry = this.#options.registry;
        return send(res, 200, await registry.metrics(), registry.contentType);
      }
      const checks = probe(url.pathname, this.#healthz, this.#readyz);
      if (!checks) return send(res, 404, 'not found\n');
      const { status, body } = await runChecks(checks, url.searchParams);
      return send(res, status, body);
    } catch (err) {
      return send(res, 500, `internal error: ${(err as Error).message}\n`);
    }
  }
}

/** /healthz, /readyz, or /healthz/<name> for one check. */
function probe(
  path: string,
  healthz: Map<string, Check>,
  readyz: Map<string, Check>,
): { set: Map<string, Check>; root: string; only?: string } | undefined {
  const [, root, only] = /^\/(healthz|readyz)(?:\/([^/]+))?\/?$/.exec(path) ?? [];
  if (!root) return undefined;
  const set = root === 'healthz' ? healthz : readyz;
  if (only !== undefined && !set.has(only)) return undefined;
  return only === undefined ? { set, root } : { set, root, only };
}

async function runChecks(
  { set: checks, root, only }: { set: Map<string, Check>; root: string; only?: string },
  params: URLSearchParams,
): Promise<{ status: number; body: string }> {
  const exclude = new Set(params.getAll('exclude'));
  const lines: string[] = [];
  let failed = false;
  for (const [name, check] of checks) {
    if (only !== undefined ? name !== only : exclude.has(name)) continue;
    let reason: string | undefined;
    try {
      if ((await check()) === false) reason = 'not ready';
    } catch (err) {
      reason = (err as Error).message || String(err);
    }
    if (reason === undefined) lines.push(`[+]${name} ok`);
    else {
      failed = true;
      lines.push(`[-]${name} failed: ${reason}`);
    }
  }
  const verbose = params.has('verbose');
  if (failed) return { status: 500, body: `${lines.join('\n')}\n${root} check failed\n` };
  return { status: 200, body: verbose ? `${lines.join('\n')}\n${root} check passed\n` : 'ok' };
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}
