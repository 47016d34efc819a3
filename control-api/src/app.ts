// The control API as an express application: every route declared once (schemas → validation and
// OpenAPI), every error a problem+json.
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { NodeRegistry } from '../../common/src/contract/index.js';
import { Authenticator } from './auth/authenticator.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import { ApiMetrics } from './http/metrics.js';
import { mountRoutes } from './http/mount.js';
import { openApiDocument } from './http/openapi.js';
import { takeToken } from './http/rate-limit.js';
import { defineRoute, type Route } from './http/route.js';
import { LiveNodesCache } from './join/live-nodes.js';
import { principalRateKey } from './redis/keys.js';
import type { AudioRooms } from './rooms/audio-rooms.js';
import { joinRoutes } from './routes/join.js';
import { roomRoutes } from './routes/rooms.js';
import { stageRoutes } from './routes/stage.js';
import { RoomStore } from './stage/store.js';

export interface AppOptions {
  config: Config;
  redis: Redis;
  rooms: AudioRooms;
  logger: Logger;
  /** Process metrics (CPU, heap, event loop) on /metrics too; once per process. */
  defaultMetrics?: boolean;
}

export function createApp(options: AppOptions): {
  app: Express;
  routes: Route[];
  deps: Deps;
  metrics: ApiMetrics;
} {
  const { config, redis, logger } = options;
  const deps: Deps = {
    config,
    redis,
    rooms: options.rooms,
    store: new RoomStore(redis, {
      perSecond: config.rate.roomPerSecond,
      burst: config.rate.roomBurst,
    }),
    liveNodes: new LiveNodesCache(new NodeRegistry(redis)),
    joinKey: config.joinToken.key,
    logger,
  };
  const metrics = new ApiMetrics(options.defaultMetrics ?? false);
  const routes = routeTable(deps, metrics);
  const authenticator = new Authenticator(config);
  const { userPerSecond, userBurst } = config.rate;
  const app = express();
  mountRoutes(app, routes, {
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    problemBase: config.problemBase,
    authenticate: (req) =>
      authenticator.authenticate({
        authorization: req.get('authorization'),
        'x-api-key': req.get('x-api-key'),
      }),
    observe: (route, method, status, seconds) => metrics.observe(route, method, status, seconds),
    rateLimit: (principal) =>
      takeToken(
        redis,
        principalRateKey(principal.id),
        { perSecond: userPerSecond, burst: userBurst },
        principal.id,
      ),
  });
  return { app, routes, deps, metrics };
}

export const API_INFO = { title: 'amphi control API', version: '1.0.0' };

/** Every route of the API, declared once: mounted by createApp, described by the document. */
function routeTable(deps: Deps, metrics: ApiMetrics): Route[] {
  const routes: Route[] = [...roomRoutes(deps), ...joinRoutes(deps), ...stageRoutes(deps)];
  let document: unknown;
  routes.push(
    defineRoute({
      method: 'get',
      path: '/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tags: ['meta'],
      auth: false,
      responses: { 200: { description: 'OpenAPI 3.1 document' } },
      problems: [],
      async handler() {
        document ??= openApiDocument(routes, API_INFO);
        return { status: 200, body: document };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness and Redis reachability',
      tags: ['meta'],
      auth: false,
      responses: { 200: { description: 'Healthy' } },
      problems: [],
      async handler() {
        await deps.redis.ping();
        return { status: 200, body: { status: 'ok' } };
      },
    }),
  );
  routes.push(
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics (restrict by network policy)',
      tags: ['meta'],
      auth: false,
      responses: { 200: { description: 'Prometheus text exposition' } },
      problems: [],
      async handler({ res }) {
        res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
        return { status: 200, sent: true };
      },
    }),
  );
  return routes;
}

/**
 * The OpenAPI document without a server: route declarations only, no handler runs (their
 * dependencies are absent). `npm run generate` turns it into the SDK's types.
 */
export function controlApiDocument(): unknown {
  return openApiDocument(routeTable({} as Deps, new ApiMetrics()), API_INFO);
}
