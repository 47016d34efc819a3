import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { HealthServer } from './health.js';
import { RuntimeMetrics } from './metrics.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(setup: (s: HealthServer) => void, registry?: Registry) {
  const server = new HealthServer({
    port: 0,
    host: '127.0.0.1',
    ...(registry ? { registry } : {}),
  });
  setup(server);
  servers.push(server);
  const port = await server.start();
  return async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };
}

describe('HealthServer', () => {
  it('answers ok when every check passes', async () => {
    const get = await serve((s) =>
      s.addHealthzCheck('ping', () => true).addReadyzCheck('synced', async () => {}),
    );
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/readyz')).toMatchObject({ status: 200, body: 'ok' });
    expect((await get('/readyz?verbose')).body).toBe('[+]synced ok\nreadyz check passed\n');
  });

  it('fails readiness while a check fails, naming it and its reason', async () => {
    let synced = false;
    const get = await serve((s) =>
      s
        .addReadyzCheck('informers', () => synced)
        .addReadyzCheck('leader', () => {
          throw new Error('no lease');
        }),
    );
    const res = await get('/readyz');
    expect(res.status).toBe(500);
    expect(res.body).toBe(
      '[-]informers failed: not ready\n[-]leader failed: no lease\nreadyz check failed\n',
    );
    synced = true;
    expect((await get('/readyz?exclude=leader')).status).toBe(200);
    expect((await get('/readyz/informers')).status).toBe(200);
    expect((await get('/readyz/leader')).status).toBe(500);
    expect((await get('/healthz')).status).toBe(200); // liveness is separate
  });

  it('serves /metrics from the given registry, and 404 for anything else', async () => {
    const registry = new Registry();
    RuntimeMetrics.for(registry).controller('rooms', 2);
    const get = await serve(() => {}, registry);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body).toContain(
      'controller_runtime_max_concurrent_reconciles{controller="rooms"} 2',
    );
    expect(res.body).toContain(
      'controller_runtime_reconcile_total{controller="rooms",result="requeue_after"} 0',
    );
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/readyz/unknown')).status).toBe(404);
  });
});
