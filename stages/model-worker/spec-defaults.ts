import { isPlainObject } from '../../runner/spec-layers.ts';
import type { JsonSchema } from '../../runner/spec-schema.ts';
import { generateKind } from '../generate/kind.ts';
import { trainKind } from '../train/kind.ts';
import { generateJobSettings, trainJobSettings } from './job-builder.ts';
import type { GenerateSettings, LoraSettings, TrainSettings } from './worker-job.ts';

export type TrainOverrides = Partial<Omit<TrainSettings, 'lora'>> & {
  lora?: Partial<LoraSettings>;
};

/**
 * The train and generate settings a spec gets when it names none, read from the kinds' schemas
 * (the one place those defaults are written). For callers that build worker jobs without a spec:
 * benchmarks, tests, tools.
 */
export function defaultTrainSettings(overrides: TrainOverrides = {}): TrainSettings {
  const settings = trainJobSettings(defaultsOf(sectionSchema(trainKind.paramsSchema, 'train')));
  return { ...settings, ...overrides, lora: { ...settings.lora, ...overrides.lora } };
}

export function defaultGenerateSettings(
  overrides: Partial<GenerateSettings> = {},
): GenerateSettings {
  return {
    ...generateJobSettings(defaultsOf(sectionSchema(generateKind.paramsSchema, 'generate'))),
    ...overrides,
  };
}

function sectionSchema(schema: JsonSchema, name: string): JsonSchema {
  const section = (schema.properties as Record<string, JsonSchema> | undefined)?.[name];
  if (!section) throw new Error(`the schema declares no ${name} section`);
  return section;
}

/** Every property's default, objects filled from their own properties' defaults. */
function defaultsOf(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  for (const [name, sub] of Object.entries(properties)) {
    if (!isPlainObject(sub)) continue;
    if (isPlainObject(sub.properties)) out[name] = defaultsOf(sub as JsonSchema);
    else if ('default' in sub) out[name] = sub.default;
  }
  return out;
}
