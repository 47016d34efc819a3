// Request validation against the route's TypeBox schemas: every problem listed, never a 5xx.
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { HttpProblem } from './problem.js';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

export function validate(
  schema: TSchema,
  value: unknown,
  where: 'path' | 'query' | 'body',
): unknown {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  if (check.Check(value)) return value;
  const errors = [...check.Errors(value)]
    .slice(0, 10)
    .map((e) => ({ path: `${where}${e.path}`, message: e.message }));
  throw new HttpProblem(
    'validation-error',
    `${where}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    { errors },
  );
}
