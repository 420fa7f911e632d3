import { defineStageKind } from '../../runner/stage-kind.ts';
import { runSelect } from './run-select.ts';

export interface SelectParams {
  data: { categories: (string | number)[] };
}

/** Keeps the figures of the configured categories (the paper: bacterial infections). */
export const selectKind = defineStageKind<SelectParams>({
  name: 'select',
  version: 1,
  description: 'keep figures labelled with the configured categories',
  inputs: ['records', 'annotations'],
  deterministic: true,
  resources: { cpu: 1 },
  run: runSelect,
  paramsSchema: {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        properties: {
          categories: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: {
              'x-expects': 'a category name or number (1-29)',
              anyOf: [
                { type: 'integer', minimum: 1, maximum: 29 },
                { type: 'string', minLength: 1 },
              ],
            },
            default: ['Bacterial Infections'],
            description: 'Categories to keep, by name or number (21 = Bacterial Infections).',
          },
        },
      },
    },
  },
});
