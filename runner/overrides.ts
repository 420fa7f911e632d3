import type { Diagnostic } from './diagnostic.ts';
import { fail, ok, type Result } from './result.ts';
import type { LayeredSpec, SpecLayer } from './spec-layers.ts';
import { type JsonSchema, schemaAt } from './spec-schema.ts';
import { parseYamlSource } from './yaml-source.ts';

/**
 * Turns `--set train.lora.rank=16` into an override layer. The value is typed through the
 * schema: where the setting is a string the text is taken as is, elsewhere it is read as a
 * YAML scalar or flow collection (`16`, `true`, `[q_proj, v_proj]`, `all`).
 */
export function applyOverrides(
  spec: LayeredSpec,
  sets: readonly string[],
  schema: JsonSchema,
): Result<LayeredSpec, Diagnostic[]> {
  const layers: SpecLayer[] = [];
  const problems: Diagnostic[] = [];
  for (const text of sets) {
    const eq = text.indexOf('=');
    if (eq <= 0) {
      problems.push({ message: `--set ${text}: expected key.path=value` });
      continue;
    }
    const key = text.slice(0, eq).trim();
    const raw = text.slice(eq + 1);
    const path = key.split('.');
    const setting = schemaAt(schema, path);
    if (!setting) {
      problems.push({ message: `--set ${text}: "${key}" is not a setting of the spec` });
      continue;
    }
    let value: unknown;
    if (setting.type === 'string') {
      value = raw;
    } else {
      // The same hardened reading as a spec file (no tags, no alias bombs, no complex keys).
      const parsed = parseYamlSource(`--set ${key}`, raw);
      if (!parsed.ok) {
        const why = parsed.error[0]?.message ?? 'invalid YAML';
        problems.push({ message: `--set ${text}: cannot read "${raw}" as a value (${why})` });
        continue;
      }
      value = parsed.value.value;
    }
    layers.push({ type: 'override', text: `--set ${text}`, path, value });
  }
  if (problems.length > 0) return fail(problems);
  return ok({ file: spec.file, layers: [...spec.layers, ...layers] });
}
