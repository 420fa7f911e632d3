/**
 * The answer schema as Gemini is sent it. Gemini's structured output honours a documented
 * subset of JSON Schema (ai.google.dev/gemini-api/docs/structured-output, "JSON Schema
 * support"); keywords outside it are ignored at best and refused at worst, so they are left out
 * of the request. The full schema, lengths included, is still enforced locally with ajv
 * (structured-answer.ts), so nothing the stage relies on is lost.
 */
export const GEMINI_SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'title',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'propertyOrdering',
  'enum',
  'format',
  'minimum',
  'maximum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'anyOf',
  'nullable',
  '$ref',
  '$defs',
]);

/** Keywords whose value is a map of name to subschema, not a subschema itself. */
const SCHEMA_MAPS = new Set(['properties', '$defs']);
/** Keywords whose value is a subschema or a list of them. */
const SUBSCHEMAS = new Set(['items', 'additionalProperties', 'anyOf', 'prefixItems']);

export function geminiResponseSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (!GEMINI_SCHEMA_KEYWORDS.has(keyword)) continue;
    if (SCHEMA_MAPS.has(keyword) && isObject(value)) {
      out[keyword] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          isObject(sub) ? geminiResponseSchema(sub) : sub,
        ]),
      );
    } else if (SUBSCHEMAS.has(keyword)) {
      out[keyword] = Array.isArray(value)
        ? value.map((sub) => (isObject(sub) ? geminiResponseSchema(sub) : sub))
        : isObject(value)
          ? geminiResponseSchema(value)
          : value;
    } else {
      out[keyword] = value;
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
