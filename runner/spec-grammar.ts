import { executorSchema } from './executors/executor-settings.ts';
import type { JsonSchema } from './spec-schema.ts';

/**
 * The runner's own part of every spec, whatever the domain: the experiment's identity, the
 * files it extends, its sweep (parsed by sweep.ts) and where its stages run. A pipeline adds
 * only its own top-level fields, and its stage kinds the settings they read.
 */
export const runnerGrammarSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]*$',
      description: 'The experiment: one MLflow experiment per name.',
    },
    description: { type: 'string', description: "Shown in MLflow as the runs' note." },
    executor: executorSchema,
    extends: {
      description: 'Spec file(s) this one builds on; later layers win.',
      'x-expects': 'a path or a list of paths',
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    sweep: {
      type: 'object',
      description:
        'Dotted setting paths to lists of values; the variants are their cartesian product. A spec that sets sweep replaces the sweep of the specs it extends.',
      properties: {
        name: {
          type: 'string',
          description: 'Variant name template, e.g. "{data.supervision}-{data.train_size}".',
        },
        include: {
          type: 'array',
          description: 'Extra variants: {name, description, set: {dotted.path: value}}.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 1 },
              description: { type: 'string' },
              set: { type: 'object' },
            },
          },
        },
        exclude: {
          type: 'array',
          description: 'Combinations of axis values to leave out.',
          items: { type: 'object' },
        },
        replicates: {
          type: 'object',
          description:
            "Settings each variant repeats with, e.g. {train.seed: [1, 2, 3]}: every variant runs once per value, and Table 1 shows the mean, standard deviation and n under the variant's name. Stages that do not read the setting are shared by the replicates.",
          minProperties: 1,
          additionalProperties: false,
          patternProperties: {
            '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$': {
              type: 'array',
              minItems: 2,
            },
          },
        },
      },
      patternProperties: {
        '^(?!(name|include|exclude|replicates)$)[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$':
          {
            type: 'array',
            minItems: 1,
          },
      },
      additionalProperties: false,
    },
  },
};
