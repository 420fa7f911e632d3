import { defineStageKind } from '../../runner/stage-kind.ts';
import { categoriesSchema } from '../shared/spec-fragments.ts';
import { selectContract } from './contract.ts';
import { runSelect } from './run-select.ts';

/** Keeps the figures of the configured categories (the paper: bacterial infections). */
export const selectKind = defineStageKind({
  name: 'select',
  version: 1,
  description: 'keep figures labelled with the configured categories',
  contract: selectContract,
  deterministic: true,
  resources: { cpu: 1 },
  run: runSelect,
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
