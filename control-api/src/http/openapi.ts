// The OpenAPI 3.1 document, generated from the same route declarations and TypeBox schemas that
// validate requests: the document cannot drift from what the server enforces.
import type { TObject, TSchema } from '@sinclair/typebox';
import { Problem } from '../../../common/src/api/schemas.js';
import { PROBLEMS, type ProblemKind } from './problem.js';
import type { Route } from './route.js';

/** JSON Schema as plain data (TypeBox's symbol keys dropped). */
const plain = (schema: TSchema): Record<string, unknown> =>
  JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

function parameters(where: 'path' | 'query', schema: TObject | undefined): unknown[] {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: plain(s),
  }));
}

export function openApiDocument(
  routes: readonly Route[],
  info: { title: string; version: string },
): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const authenticated = route.auth !== false;
    const kinds = new Set<ProblemKind>(route.problems);
    if (authenticated)
      ['unauthenticated', 'invalid-token', 'token-expired', 'forbidden'].forEach((k) =>
        kinds.add(k as ProblemKind),
      );
    if (route.rateLimited !== false && authenticated) kinds.add('rate-limited');
    if (route.params || route.query || route.body) kinds.add('validation-error');
    if (route.body)
      ['malformed-json', 'payload-too-large', 'unsupported-media-type'].forEach((k) =>
        kinds.add(k as ProblemKind),
      );
    kinds.add('unavailable');
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses))
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { 'application/json': { schema: plain(r.schema) } } } : {}),
      };
    const byStatus = new Map<number, ProblemKind[]>();
    for (const kind of kinds) {
      const status = PROBLEMS[kind][0];
      byStatus.set(status, [...(byStatus.get(status) ?? []), kind]);
    }
    for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0]))
      responses[String(status)] = {
        description: list.map((k) => PROBLEMS[k][1]).join('; ') + ` (types: ${list.join(', ')})`,
        content: {
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        },
      };
    (paths[route.path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: plain(route.body) } },
            },
          }
        : {}),
      responses,
      ...(authenticated ? { security: [{ bearer: [] }, { apiKey: [] }] } : { security: [] }),
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info,
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Problem: plain(Problem) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}
