import { defineStageKind } from '../../runner/stage-kind.ts';
import { dataSourceSchema } from '../shared/source-schema.ts';
import { seedSchema, testFractionSchema } from '../shared/spec-fragments.ts';
import { SUBSET_OUTPUT, subsetContract } from './contract.ts';

/** Nested training subsets: the 500 images are inside the 1000, inside all. */
export const subsetKind = defineStageKind({
  name: 'subset',
  version: 1,
  description: 'take a nested, seeded subset of the training images',
  contract: subsetContract,
  // The train set a tuned variant trains on.
  tracking: { datasets: [{ file: SUBSET_OUTPUT.train, context: 'train' }] },
  deterministic: true,
  resources: { cpu: 1 },
  // The kind's code loads when a hook is first called (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-subset.ts')).runSubset(ctx),
  // Whether the source can hold this train size at all, known from shard sizes before a
  // download (the source and test share come along for this; they are upstream of the key anyway).
  // Only the train-size check is this stage's: curate reports the source's own checks.
  preflight: async ({ data }, ctx) => {
    // Shard sizes say how many figures BIOMEDICA shards hold; a table source is counted by curate.
    if (data.source === undefined || (data.source.type !== 'local' && data.source.type !== 'hub'))
      return [];
    const { shardAvailabilityChecks } = await import('../biomedica/source-checks.ts');
    const checks = await shardAvailabilityChecks(
      { source: data.source, trainSize: data.train_size, testFraction: data.test_fraction },
      { env: { ...ctx.env } },
    );
    return checks.filter((check) => check.subject.startsWith('train size'));
  },
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      data: {
        type: 'object',
        properties: {
          train_size: {
            'x-expects': 'a positive integer or "all"',
            anyOf: [{ type: 'integer', minimum: 1 }, { const: 'all' }],
            default: 'all',
            description: 'Training images used (all QA pairs of each image come along).',
          },
          source: dataSourceSchema,
          test_fraction: testFractionSchema,
        },
      },
    },
  },
});
