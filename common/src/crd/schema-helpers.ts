// TypeBox helpers that emit only what a Kubernetes structural schema accepts
// (no const/anyOf for enums, explicit CEL rules, list-map markers).
import {
  Kind,
  Type,
  TypeRegistry,
  type SchemaOptions,
  type TSchema,
  type TUnsafe,
} from '@sinclair/typebox';

// Custom kinds so TypeBox's own checker (Value, TypeCompiler) validates these schemas too; the
// Kind symbol never reaches the generated YAML (symbols are not serialised).
if (!TypeRegistry.Has('StringEnum'))
  TypeRegistry.Set<{ enum: string[] }>(
    'StringEnum',
    (schema, value) => typeof value === 'string' && schema.enum.includes(value),
  );
if (!TypeRegistry.Has('Opaque'))
  TypeRegistry.Set(
    'Opaque',
    (_schema, value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  );

export interface CelRule {
  rule: string;
  message: string;
  /** Path of the field the message is about, e.g. ".maxReplicas". */
  fieldPath?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** `x-kubernetes-validations` for any schema. */
export const cel = (...rules: CelRule[]): { 'x-kubernetes-validations': CelRule[] } => ({
  'x-kubernetes-validations': rules,
});

/** A string enum as `{type: string, enum: [...]}` (structural), typed as the literal union. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({
    ...options,
    [Kind]: 'StringEnum',
    type: 'string',
    enum: [...values],
  });
}

/** A field whose value may never change once set. */
export const immutable = (name: string): CelRule => ({
  rule: 'self == oldSelf',
  message: `${name} is immutable`,
});

/** Free-form Kubernetes objects we pass through (affinity, tolerations, resources). */
export function Opaque<T>(description: string): TUnsafe<T> {
  return Type.Unsafe<T>({
    [Kind]: 'Opaque',
    type: 'object',
    description,
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

/** metav1.Condition, as a list-map keyed by type. */
export const Conditions = Type.Array(
  Type.Object({
    type: Type.String({
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
    lastTransitionTime: Type.String({ format: 'date-time' }),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ maxLength: 32768 }),
  }),
  { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);

export type { TSchema };
