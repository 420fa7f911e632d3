import { createHash } from 'node:crypto';

/**
 * Serialises a JSON value with sorted object keys and normalised numbers, so that two records
 * that mean the same thing hash the same whatever order their keys were written in.
 * Written by hand because the key format must never change under us with a dependency bump.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return canonicalNumber(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
}

/** `1`, `1.0` and `1e0` are one number; `-0` is `0`; non-finite numbers are not JSON. */
function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`canonicalJson: ${n} is not a JSON number`);
  if (Object.is(n, -0)) return '0';
  return JSON.stringify(n);
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}
