import { createRequire } from 'node:module';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { canonicalJson } from '../../runner/canonical-json.ts';
import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * Every provider is asked to constrain its output to the schema, but constrained decoding is a
 * request, not a guarantee (proxies drop it, models truncate at the token limit), so every
 * answer is parsed and validated here before anything downstream sees it.
 */
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

export function parseStructuredAnswer(
  text: string,
  schema: Record<string, unknown>,
): Result<unknown, { message: string }> {
  let value: unknown;
  try {
    value = JSON.parse(stripCodeFence(text));
  } catch (error: unknown) {
    return fail({ message: `not JSON: ${error instanceof Error ? error.message : String(error)}` });
  }
  const validate = validatorFor(schema);
  if (!validate(value)) {
    const problems = (validate.errors ?? [])
      .map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`)
      .join('; ');
    return fail({ message: `does not match the schema: ${problems}` });
  }
  return ok(value);
}

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = canonicalJson(schema);
  let validate = compiled.get(key);
  if (!validate) {
    // ajv (some 80 modules) loads on the first answer, not with every command that lists the kinds.
    ajv ??= new (
      createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')
    ).Ajv2020({ allErrors: true, strict: false });
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

/** Some OpenAI-compatible servers wrap JSON in a markdown fence even in JSON mode. */
function stripCodeFence(text: string): string {
  const match = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return match ? (match[1] as string) : text;
}
