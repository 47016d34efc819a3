// Decoding JSON that crossed a process boundary (Redis, tokens) against its schema: a bad entry is
// a clear error naming the field, never a half-typed object deep in a controller.
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

export class DecodeError extends Error {
  constructor(
    readonly what: string,
    readonly problems: string[],
  ) {
    super(`invalid ${what}: ${problems.join('; ')}`);
    this.name = 'DecodeError';
  }
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema);
  if (check === undefined) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  return check as TypeCheck<T>;
}

/** Validates a parsed value; throws DecodeError listing up to five problems. */
export function decodeValue<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const check = checker(schema);
  if (check.Check(value)) return value;
  const problems = [...check.Errors(value)].slice(0, 5).map((e) => `${e.path || '/'} ${e.message}`);
  throw new DecodeError(what, problems);
}

/** Parses and validates a JSON string. */
export function decodeJson<T extends TSchema>(schema: T, text: string, what: string): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(what, [`not JSON: ${(error as Error).message}`]);
  }
  return decodeValue(schema, value, what);
}
