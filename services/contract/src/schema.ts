/**
 * Builders for the JSON Schema shapes the contract repeats, each with its TypeScript type: TypeBox's
 * own unions become `anyOf`, but Vigil's schemas have always written a nullable value as
 * `type: [T, 'null']` and a string enumeration as `type: 'string', enum`, which the OpenAPI document
 * and the request validator's messages keep.
 */
import { type Static, type TSchema, Type } from 'typebox';

/** A string of the given values. */
export function StringEnum<const Values extends readonly string[]>(
  values: Values,
  options: Record<string, unknown> = {},
) {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], ...options });
}

/** One of the given values or null. */
export function NullableEnum<const Values extends readonly string[]>(
  values: Values,
  options: Record<string, unknown> = {},
) {
  return Type.Unsafe<Values[number] | null>({
    type: ['string', 'null'],
    enum: [...values, null],
    ...options,
  });
}

/** `schema` or null: `type: [schema.type, 'null']`. */
export function Nullable<T extends TSchema>(schema: T, options: Record<string, unknown> = {}) {
  const type = (schema as { type?: unknown }).type;
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'], ...options });
}

/** A uuid string. */
export const Uuid = (options: Record<string, unknown> = {}) => Type.String({ format: 'uuid', ...options });

/** An ISO 8601 date-time string. */
export const DateTime = (options: Record<string, unknown> = {}) =>
  Type.String({ format: 'date-time', ...options });

/** A date-time or null. */
export const NullableDateTime = (options: Record<string, unknown> = {}) => Nullable(DateTime(), options);

/** A string or null. */
export const NullableString = (options: Record<string, unknown> = {}) => Nullable(Type.String(), options);

/** An object of integer counts, one for each of `keys`, each optional. */
export function Counts<const Keys extends readonly string[]>(
  keys: Keys,
  options: Record<string, unknown> = {},
) {
  return Type.Unsafe<Partial<Record<Keys[number], number>>>({
    type: 'object',
    properties: Object.fromEntries(keys.map((key) => [key, { type: 'integer' }])),
    ...options,
  });
}

/** An object of integer counts, one for each of `keys`, all present. */
export function AllCounts<const Keys extends readonly string[]>(
  keys: Keys,
  options: Record<string, unknown> = {},
) {
  return Type.Unsafe<Record<Keys[number], number>>({
    type: 'object',
    properties: Object.fromEntries(keys.map((key) => [key, { type: 'integer' }])),
    required: [...keys],
    ...options,
  });
}

/** Text with at least one non-space character, at most `maxLength` long. */
export const NonBlank = (maxLength: number, options: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', ...options });
