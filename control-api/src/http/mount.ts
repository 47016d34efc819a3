// Express plumbing shared by every route: request ids, access logs, the JSON body parser with a size
// limit, authentication, rate limits, validation, and problem+json for every error.
import { randomUUID } from 'node:crypto';
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type Response,
} from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import { HttpProblem, PROBLEMS, type ProblemKind } from './problem.js';
import type { Route } from './route.js';
import { validate } from './validate.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface MountOptions {
  logger: Logger;
  bodyLimitBytes: number;
  problemBase: string;
  authenticate(req: Request): Promise<Principal>;
  /** Charges the principal's bucket; throws a rate-limited problem. */
  rateLimit(principal: Principal): Promise<void>;
  /** Called when a response finishes, with the route template ('unmatched' for none). */
  observe?(route: string, method: string, status: number, seconds: number): void;
}

declare module 'express-serve-static-core' {
  interface Request {
    requestId?: string;
  }
}

export function sendProblem(
  res: Response,
  req: Request,
  problemBase: string,
  kind: ProblemKind,
  detail: string | undefined,
  extra: HttpProblem['extra'] = {},
): void {
  const [status, title] = PROBLEMS[kind];
  for (const [name, value] of Object.entries(extra.headers ?? {})) res.setHeader(name, value);
  res
    .status(status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `${problemBase}${kind}`,
        title,
        status,
        ...(detail !== undefined ? { detail } : {}),
        instance: req.originalUrl,
        requestId: req.requestId,
        ...(extra.errors ? { errors: extra.errors } : {}),
      }),
    );
}

function toPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, ':$1');
}

export function mountRoutes(app: Express, routes: readonly Route[], options: MountOptions): void {
  const { logger, problemBase } = options;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    req.requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    next();
  });
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => (req as Request).requestId ?? randomUUID(),
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({
          method: req.method,
          url: req.url,
          id: req.id,
        }),
      },
    }),
  );
  if (options.observe) {
    const observe = options.observe;
    app.use((req, res, next) => {
      const t0 = process.hrtime.bigint();
      res.once('finish', () =>
        observe(
          (res.locals.route as string | undefined) ?? 'unmatched',
          req.method,
          res.statusCode,
          Number(process.hrtime.bigint() - t0) / 1e9,
        ),
      );
      next();
    });
  }
  app.use(
    express.json({
      limit: options.bodyLimitBytes,
      strict: false,
      type: ['application/json', 'application/*+json'],
    }),
  );

  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const path = toPath(route.path);
    (methodsByPath.get(path) ?? methodsByPath.set(path, new Set()).get(path)!).add(
      route.method.toUpperCase(),
    );
    app[route.method](path, async (req: Request, res: Response, next: NextFunction) => {
      res.locals.route = route.path;
      try {
        const principal: Principal =
          route.auth === false
            ? { kind: 'platform', id: 'anonymous' }
            : await options.authenticate(req);
        if (route.auth !== false && route.rateLimited !== false) await options.rateLimit(principal);
        const params = route.params ? validate(route.params, { ...req.params }, 'path') : {};
        const query = route.query
          ? validate(route.query, { ...(req.query as object) }, 'query')
          : {};
        let body: unknown = undefined;
        if (route.body) {
          const hasBody =
            Number(req.get('content-length') ?? 0) > 0 ||
            req.get('transfer-encoding') !== undefined;
          if (hasBody && !req.is(['application/json', 'application/*+json']))
            throw new HttpProblem(
              'unsupported-media-type',
              `got ${req.get('content-type') ?? 'no content type'}`,
            );
          body = validate(route.body, req.body === undefined ? {} : req.body, 'body');
        }
        const reply = await route.handler({
          params: params as never,
          query: query as never,
          body: body as never,
          principal,
          requestId: req.requestId ?? '',
          req,
          res,
        });
        if (reply.sent) return;
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
        if (reply.body === undefined) res.status(reply.status).end();
        else res.status(reply.status).json(reply.body);
      } catch (error) {
        next(error);
      }
    });
  }
  // Unknown paths and methods.
  app.use((req: Request, res: Response) => {
    const allowed = allowedMethods(methodsByPath, req.path);
    if (allowed) {
      res.setHeader('Allow', [...allowed].join(', '));
      sendProblem(res, req, problemBase, 'method-not-allowed', `${req.method} is not allowed here`);
    } else sendProblem(res, req, problemBase, 'not-found', `no route ${req.method} ${req.path}`);
  });
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpProblem) {
      if (error.status >= 500) req.log?.warn({ err: error }, 'problem');
      sendProblem(res, req, problemBase, error.kind, error.detail, error.extra);
      return;
    }
    const e = error as { type?: string; status?: number; message?: string; code?: string };
    if (e.type === 'entity.parse.failed')
      return sendProblem(res, req, problemBase, 'malformed-json', e.message);
    if (e.type === 'entity.too.large')
      return sendProblem(
        res,
        req,
        problemBase,
        'payload-too-large',
        `limit is ${options.bodyLimitBytes} bytes`,
      );
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return sendProblem(res, req, problemBase, 'unsupported-media-type', e.message);
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      return sendProblem(res, req, problemBase, 'validation-error', e.message);
    if (isDependencyFailure(error)) {
      req.log?.error({ err: error }, 'dependency failure');
      return sendProblem(
        res,
        req,
        problemBase,
        'unavailable',
        'a backing service did not answer; retry',
        {
          headers: { 'Retry-After': '1' },
        },
      );
    }
    req.log?.error({ err: error }, 'unhandled error');
    sendProblem(res, req, problemBase, 'internal', undefined);
  };
  app.use(onError);
}

/** Methods of the most specific patterns matching a path (literal segments beat parameters). */
function allowedMethods(
  methodsByPath: Map<string, Set<string>>,
  path: string,
): Set<string> | undefined {
  const b = path.split('/');
  let best = -1;
  let methods: Set<string> | undefined;
  for (const [pattern, set] of methodsByPath) {
    const a = pattern.split('/');
    if (a.length !== b.length || !a.every((seg, i) => seg.startsWith(':') || seg === b[i]))
      continue;
    const score = a.filter((seg) => !seg.startsWith(':')).length;
    if (score > best) [best, methods] = [score, new Set(set)];
    else if (score === best) set.forEach((m) => methods!.add(m));
  }
  return methods;
}

function isDependencyFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code ?? '') ||
    /Connection is closed|max retries|Stream isn't writeable|ECONNREFUSED/i.test(error.message)
  );
}
