import { defineStageKind } from '../../runner/stage-kind.ts';
import { categoriesSchema } from '../shared/spec-fragments.ts';
import { selectContract } from './contract.ts';

/** Keeps the figures of the configured categories (the paper: bacterial infections). */
export const selectKind = defineStageKind({
  name: 'select',
  version: 1,
  description: 'keep figures labelled with the configured categories',
  contract: selectContract,
  deterministic: true,
  resources: { cpu: 1 },
  // The kind's code loads when it runs (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-select.ts')).runSelect(ctx),
  paramsSchema: {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        properties: {
          categories: categoriesSchema,
        },
      },
    },
  },
});
