import { defineStageKind } from '../../runner/stage-kind.ts';
import { seedSchema, testFractionSchema } from '../shared/spec-fragments.ts';
import { SPLIT_OUTPUT, splitContract } from './contract.ts';

/** Train/test split by source article, so no article is on both sides. */
export const splitKind = defineStageKind({
  name: 'split',
  version: 1,
  description: 'split QA pairs into train and test by source article',
  contract: splitContract,
  tracking: {
    datasets: [
      { file: SPLIT_OUTPUT.test, context: 'test' },
      // Without a subset stage the split's train file is what training sees.
      { file: SPLIT_OUTPUT.train, context: 'train', unlessVariantHas: 'subset' },
    ],
  },
  deterministic: true,
  resources: { cpu: 1 },
  // The kind's code loads when it runs (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-split.ts')).runSplit(ctx),
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      data: {
        type: 'object',
        properties: {
          test_fraction: testFractionSchema,
        },
      },
    },
  },
});
