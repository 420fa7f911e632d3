import { defineStageKind } from '../../runner/stage-kind.ts';
import { seedSchema } from '../shared/spec-fragments.ts';
import { runSubset } from './run-subset.ts';

export interface SubsetParams {
  seed: number;
  data: { train_size: number | 'all' };
}

/** Nested training subsets: the 500 images are inside the 1000, inside all. */
export const subsetKind = defineStageKind<SubsetParams>({
  name: 'subset',
  version: 1,
  description: 'take a nested, seeded subset of the training images',
  inputs: ['split'],
  deterministic: true,
  resources: { cpu: 1 },
  run: runSubset,
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
        },
      },
    },
  },
});
