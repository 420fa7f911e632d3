import { defineStageKind } from '../../runner/stage-kind.ts';

export interface CleanQaParams {
  data: { near_duplicate_threshold: number };
}

/** Drops malformed, empty and inconsistent pairs and exact and near duplicates. */
export const cleanQaKind = defineStageKind<CleanQaParams>({
  name: 'clean-qa',
  version: 1,
  description: 'drop malformed pairs and exact and near duplicates',
  inputs: ['qa'],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        properties: {
          near_duplicate_threshold: {
            type: 'number',
            exclusiveMinimum: 0,
            maximum: 1,
            default: 0.9,
            description:
              'Similarity at or above which two QA pairs of one image count as duplicates.',
          },
        },
      },
    },
  },
});
