import type { JsonSchema } from '../runner/spec-schema.ts';

/**
 * The study's own top level: the published schema's identity. The runner contributes its
 * grammar (name, description, extends, sweep, executor; runner/spec-grammar.ts) and the stage
 * kinds contribute `data`, `llm`, `model`, `train`, `generate`, `eval` and `seed`.
 */
export const specBaseSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://dermatune.dev/schemas/spec.schema.json',
  title: 'dermatune experiment spec',
};
