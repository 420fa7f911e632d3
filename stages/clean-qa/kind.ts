import { defineStageKind } from '../../runner/stage-kind.ts';
import { cleanQaContract } from './contract.ts';

/** Tidies answers; drops malformed, empty, inconsistent and degenerate pairs and exact and near duplicates. */
export const cleanQaKind = defineStageKind({
  name: 'clean-qa',
  // 2: answers are tidied of leading debris, and degenerate ones (braces, loops) are dropped.
  version: 2,
  description: 'drop malformed pairs and exact and near duplicates',
  contract: cleanQaContract,
  deterministic: true,
  resources: { cpu: 1 },
  // The kind's code loads when it runs (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-clean-qa.ts')).runCleanQa(ctx),
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
              'Token-set Jaccard similarity (normalised question + answer, across all images) at or above which a QA pair counts as a near duplicate of an earlier one.',
          },
        },
      },
    },
  },
});
