// A route is declared once: its schemas validate the request and generate the OpenAPI document.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal.js';
import type { ProblemKind } from './problem.js';

export interface RequestContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  requestId: string;
  req: Request;
  res: Response;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The handler wrote the response itself (e.g. a non-JSON body). */
  sent?: boolean;
}

export interface RouteSpec<P extends TObject, Q extends TObject, B extends TSchema> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: /v1/rooms/{id}. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Success responses. */
  responses: Record<number, { description: string; schema?: TSchema }>;
  /** Problems this operation can answer with (401 and 429 are added for authenticated routes). */
  problems: ProblemKind[];
  /** Default true: a principal is required. */
  auth?: boolean;
  /** Default true: the principal's token bucket is charged. */
  rateLimited?: boolean;
  handler(ctx: RequestContext<Static<P>, Static<Q>, Static<B>>): Promise<Reply>;
}

export type Route = RouteSpec<TObject, TObject, TSchema>;

export function defineRoute<P extends TObject, Q extends TObject, B extends TSchema>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}
