import { isDeepStrictEqual } from 'node:util';
import { isPlainObject } from './spec-layers.ts';

/** A JSON Schema (draft 2020-12) as plain data. */
export type JsonSchema = Record<string, unknown>;

/**
 * The spec schema is composed, not written twice: the runner contributes the generic top
 * level (name, extends, seed, sweep) and each stage kind contributes the schema of the spec
 * paths it reads. Two kinds reading the same path must agree on its schema.
 */
export function composeSpecSchema(
  base: JsonSchema,
  contributions: readonly { from: string; schema: JsonSchema }[],
): JsonSchema {
  let schema = base;
  for (const { from, schema: part } of contributions) schema = mergeSchema(schema, part, from, []);
  return schema;
}

function mergeSchema(a: JsonSchema, b: JsonSchema, from: string, at: string[]): JsonSchema {
  const out: JsonSchema = { ...a };
  for (const [keyword, value] of Object.entries(b)) {
    const existing = a[keyword];
    if (existing === undefined) {
      out[keyword] = value;
    } else if (keyword === 'properties' && isPlainObject(existing) && isPlainObject(value)) {
      const properties: Record<string, unknown> = { ...existing };
      for (const [name, sub] of Object.entries(value)) {
        const current = existing[name];
        properties[name] =
          current === undefined
            ? sub
            : mergeSchema(current as JsonSchema, sub as JsonSchema, from, [...at, name]);
      }
      out.properties = properties;
    } else if (keyword === 'required' && Array.isArray(existing) && Array.isArray(value)) {
      out.required = [...new Set([...existing, ...value])];
    } else if (!isDeepStrictEqual(existing, value)) {
      // A bug in the stage declarations, not a user error.
      throw new Error(
        `${from} declares ${at.join('.') || '(root)'}.${keyword} differently from another kind`,
      );
    }
  }
  return out;
}

/**
 * The part of `value` that `schema` declares: the params a stage reads, and nothing else, so
 * that a change to a setting a stage ignores never changes its key.
 */
export function pickBySchema(value: unknown, schema: JsonSchema): unknown {
  const properties = schema.properties;
  if (!isPlainObject(properties) || !isPlainObject(value)) return value;
  const picked: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(properties)) {
    if (value[name] === undefined) continue;
    picked[name] = pickBySchema(value[name], sub as JsonSchema);
  }
  return picked;
}

/**
 * The params that enter a stage's key: the params it reads, less the settings its schema marks
 * `x-not-in-key` (how many downloads run at once changes the speed, never the output, so
 * changing it must not rerun the stage and all that follows). The stage still gets them.
 */
export function keyParams(value: unknown, schema: JsonSchema): unknown {
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> = value;
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  const branches = Array.isArray(schema.anyOf) ? (schema.anyOf as JsonSchema[]) : [];
  for (const part of [{ properties }, ...branches]) {
    const declared = isPlainObject(part.properties) ? part.properties : {};
    for (const [name, sub] of Object.entries(declared)) {
      if (out[name] === undefined || !isPlainObject(sub)) continue;
      if (sub['x-not-in-key'] === true) {
        const { [name]: _dropped, ...rest } = out;
        out = rest;
      } else {
        const inner = keyParams(out[name], sub as JsonSchema);
        if (inner !== out[name]) out = { ...out, [name]: inner };
      }
    }
  }
  return out;
}

/** The sub-schema at a dotted path (for typing `--set` values and sweep axes). */
export function schemaAt(schema: JsonSchema, path: readonly string[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const segment of path) {
    const properties: unknown = node?.properties;
    if (!isPlainObject(properties)) return undefined;
    node = properties[segment] as JsonSchema | undefined;
  }
  return node;
}
