import { join } from 'node:path';
import { isPlainObject } from '../../runner/spec-layers.ts';
import type { JsonSchema } from '../../runner/spec-schema.ts';
import { GENERATE_OUTPUT } from '../generate/contract.ts';
import { generateKind } from '../generate/kind.ts';
import { seedSchema, supervisionSchema } from '../shared/spec-fragments.ts';
import { TRAIN_OUTPUT } from '../train/contract.ts';
import { trainKind } from '../train/kind.ts';

/**
 * The model worker's job contract, derived from the spec schema: the `train` and `generate`
 * sections of the train and generate kinds (less the settings they mark `x-not-in-job`, which
 * only the runner reads), the output file names of the stages' contracts, and the job-level
 * fields. `npm run schemas` writes it twice from here: `dermatune_worker/job.schema.json`,
 * which the Python worker validates every job against, and `worker-job.generated.ts`, the
 * TypeScript types of the same jobs. A test fails when either file is stale.
 *
 * In the job every setting is required and has no default: the spec schema is where defaults
 * live, and the runner sends them all. The file the worker reads keeps only validation
 * keywords, so a reworded description changes neither the file nor the worker's digest.
 */

export const JOB_SCHEMA_FILE = 'job.schema.json';
export const JOB_SCHEMA_PATH = join(import.meta.dirname, 'dermatune_worker', JOB_SCHEMA_FILE);
export const JOB_TYPES_PATH = join(import.meta.dirname, 'worker-job.generated.ts');

/**
 * The module and function that run each job type, relative to the worker package. The worker
 * imports it by this name, and the worker's digest for a job type is the module graph that
 * starts here (worker-fingerprint.ts): the one place a job type is tied to its code.
 */
export const JOB_ENTRY = {
  train: 'train:run_train',
  examples: 'train:run_examples',
  generate: 'generate:run_generate',
  doctor: 'doctor:run_doctor',
} as const;

export type JobType = keyof typeof JOB_ENTRY;

/** What an examples job writes (it has no stage, so no stage contract names it). */
export const EXAMPLES_OUTPUT = { examples: 'examples.jsonl' } as const;

/**
 * Job settings no spec carries: a cap on optimizer steps for benchmarks and smoke runs. The one
 * optional training setting; absent or null trains every epoch.
 */
const JOB_ONLY_TRAIN_SETTINGS: Record<string, JsonSchema> = {
  max_steps: {
    description: 'Caps optimizer steps (benchmarks, smoke runs); absent or null trains all epochs.',
    anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }],
  },
};

/** The user turn of caption examples when a job names none. */
const CAPTION_INSTRUCTION = 'Describe this clinical image.';

/** Which keywords survive into the file the worker validates with. */
const DOCUMENTATION_KEYWORDS = new Set(['description', 'title', 'examples', '$comment']);

/**
 * The job schema. `documented: false` (the worker's file) drops descriptions and titles; the
 * TypeScript types keep them as doc comments.
 */
export function workerJobSchema(options: { documented: boolean }): JsonSchema {
  const trainSection = jobSectionSchema('train');
  const trainSettings: JsonSchema = {
    ...trainSection,
    properties: {
      ...(trainSection.properties as Record<string, JsonSchema>),
      ...JOB_ONLY_TRAIN_SETTINGS,
    },
  };
  const defs: Record<string, JsonSchema> = {
    JobCommon: jobCommon(),
    ModelJobFields: modelJobFields(),
    TrainSettings: trainSettings,
    GenerateSettings: jobSectionSchema('generate'),
    TrainOutputs: outputsSchema(TRAIN_OUTPUT),
    GenerateOutputs: outputsSchema(GENERATE_OUTPUT),
    ExamplesOutputs: outputsSchema(EXAMPLES_OUTPUT),
    ModelRef: {
      ...closed({
        base: {
          type: 'string',
          minLength: 1,
          description: 'Hub id, a local folder, or a name under `models_dir`.',
        },
        revision: nullable({ type: 'string', minLength: 1 }),
        adapter: nullable({
          type: 'string',
          minLength: 1,
          description: 'Generation only: the adapter folder a train job wrote.',
        }),
      }),
      required: ['base'],
    },
    TrainJob: jobOf('train', 'ModelJobFields', {
      data: dataSchema('train'),
      supervision: stripped(supervisionSchema),
      train: ref('TrainSettings'),
      outputs: ref('TrainOutputs'),
    }),
    ExamplesJob: jobOf('examples', 'ModelJobFields', {
      data: dataSchema('train'),
      supervision: stripped(supervisionSchema),
      train: ref('TrainSettings'),
      outputs: ref('ExamplesOutputs'),
    }),
    GenerateJob: jobOf('generate', 'ModelJobFields', {
      data: dataSchema('test'),
      generate: ref('GenerateSettings'),
      outputs: ref('GenerateOutputs'),
    }),
    DoctorJob: jobOf(
      'doctor',
      'JobCommon',
      {
        estimates: {
          type: 'array',
          description: 'Training jobs whose GPU memory to estimate.',
          items: closed({
            name: { type: 'string', minLength: 1 },
            model: ref('ModelRef'),
            train: ref('TrainSettings'),
          }),
        },
      },
      ['estimates'],
    ),
  };
  for (const [name, def] of Object.entries(defs)) defs[name] = { title: name, ...def };
  const schema: JsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://dermatune.dev/schemas/worker-job.schema.json',
    title: 'WorkerJob',
    description:
      'One job of the dermatune model worker. Generated by `npm run schemas` from the spec schema; do not edit.',
    'x-entry': JOB_ENTRY,
    oneOf: ['TrainJob', 'ExamplesJob', 'GenerateJob', 'DoctorJob'].map(ref),
    $defs: defs,
  };
  return options.documented ? schema : undocumented(schema);
}

/** The worker's file: stably formatted, so that the staleness test compares text. */
export function renderJobSchema(): string {
  return `${JSON.stringify(workerJobSchema({ documented: false }), null, 2)}\n`;
}

/**
 * The settings a job section carries, from the spec schema (less what only the runner reads),
 * for the one projection of a spec section onto a job (job-builder.ts).
 */
export function jobSectionSchema(kind: 'train' | 'generate'): JsonSchema {
  let section = sections.get(kind);
  if (section === undefined) {
    section = jobSection(
      kind === 'train'
        ? sectionOf(trainKind.paramsSchema, 'train')
        : sectionOf(generateKind.paramsSchema, 'generate'),
    );
    sections.set(kind, section);
  }
  return section;
}

const sections = new Map<'train' | 'generate', JsonSchema>();

/**
 * A job of one type: its own fields (all required but `optional`) on top of `base` (a `$defs`
 * name), nothing else allowed.
 */
function jobOf(
  type: JobType,
  base: string,
  fields: Record<string, JsonSchema>,
  optional: readonly string[] = [],
): JsonSchema {
  return {
    allOf: [ref(base)],
    type: 'object',
    properties: { type: typeField(type), ...fields },
    required: ['type', ...Object.keys(fields).filter((name) => !optional.includes(name))],
    // Closed across the allOf: a field neither here nor in the base is refused.
    unevaluatedProperties: false,
  };
}

/** What every job may carry; both fields have defaults the worker fills in. */
function jobCommon(): JsonSchema {
  return {
    type: 'object',
    properties: {
      models_dir: nullable({
        type: 'string',
        minLength: 1,
        default: null,
        description: 'Where bare model names (the stand-ins) are looked up.',
      }),
      allow_download: {
        type: 'boolean',
        default: false,
        description: 'Whether a hub id missing from the local cache may be downloaded.',
      },
    },
  };
}

/** What every job that loads a model carries: where it writes, the model, the seed. */
function modelJobFields(): JsonSchema {
  return {
    allOf: [ref('JobCommon')],
    type: 'object',
    properties: {
      output_dir: {
        type: 'string',
        minLength: 1,
        description: 'The only folder the worker writes into.',
      },
      checkpoint_dir: nullable({
        type: 'string',
        minLength: 1,
        default: null,
        description:
          "A folder that outlives a killed attempt (the stage key's resume folder): checkpoints and finished generation batches.",
      }),
      // The spec's seed, with its default: generate jobs do not send it (greedy decoding needs none).
      seed: withoutMarks(seedSchema),
      model: ref('ModelRef'),
      caption_instruction: {
        type: 'string',
        minLength: 1,
        default: CAPTION_INSTRUCTION,
        description: 'The user-turn text of caption examples.',
      },
    },
    required: ['output_dir', 'model'],
  };
}

function dataSchema(split: 'train' | 'test'): JsonSchema {
  return {
    ...closed({
      [split]: {
        type: 'string',
        minLength: 1,
        description: 'JSONL records {image, question, answer, caption, kind?}.',
      },
      image_root: nullable({
        type: 'string',
        minLength: 1,
        description: "Where relative image paths resolve; null: the records file's folder.",
      }),
    }),
    required: [split],
  };
}

/** Output roles with their file names as constants: the worker writes exactly these. */
function outputsSchema(names: Readonly<Record<string, string>>): JsonSchema {
  return closed(
    Object.fromEntries(Object.entries(names).map(([role, name]) => [role, { const: name }])),
  );
}

function typeField(type: JobType): JsonSchema {
  return { const: type };
}

function ref(name: string): JsonSchema {
  return { $ref: `#/$defs/${name}` };
}

function nullable(schema: JsonSchema): JsonSchema {
  const { description, default: fallback, ...rest } = schema;
  return {
    ...(description === undefined ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }),
    anyOf: [rest, { type: 'null' }],
  };
}

/** An object whose every property is required and nothing else is allowed. */
function closed(properties: Record<string, JsonSchema>): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    required: Object.keys(properties),
  };
}

function sectionOf(schema: JsonSchema, name: string): JsonSchema {
  const section = (schema.properties as Record<string, JsonSchema> | undefined)?.[name];
  if (!section) throw new Error(`the schema declares no ${name} section`);
  return section;
}

/**
 * A spec section as a job section: the settings it sends (not `x-not-in-job`), each required,
 * defaults and runner-only marks removed, nested objects alike.
 */
function jobSection(section: JsonSchema): JsonSchema {
  const properties = isPlainObject(section.properties) ? section.properties : {};
  const kept: Record<string, JsonSchema> = {};
  for (const [name, sub] of Object.entries(properties)) {
    if (!isPlainObject(sub) || sub['x-not-in-job'] === true) continue;
    kept[name] = isPlainObject(sub.properties) ? jobSection(sub) : stripped(sub);
  }
  return {
    ...(typeof section.description === 'string' ? { description: section.description } : {}),
    ...closed(kept),
  };
}

/** A setting's validation rules without its default and the spec's own `x-` marks. */
function stripped(schema: JsonSchema): JsonSchema {
  const { default: _default, ...rest } = withoutMarks(schema);
  return rest;
}

function withoutMarks(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-')) continue;
    out[key] = Array.isArray(value)
      ? value.map((item) => (isPlainObject(item) ? withoutMarks(item) : item))
      : isPlainObject(value) && key !== 'const'
        ? withoutMarks(value)
        : value;
  }
  return out;
}

/** Drops documentation keywords everywhere. */
function undocumented(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DOCUMENTATION_KEYWORDS.has(key)) continue;
    if (key === 'properties' || key === '$defs') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, sub]) => [
          name,
          undocumented(sub),
        ]),
      );
    } else if (Array.isArray(value)) {
      out[key] = value.map((item) => (isPlainObject(item) ? undocumented(item) : item));
    } else if (isPlainObject(value) && key !== 'const' && key !== 'x-entry' && key !== 'default') {
      out[key] = undocumented(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}
