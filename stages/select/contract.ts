import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface SelectParams {
  data: { categories: (string | number)[] };
}

/** The kept figures, as curate's records (so later stages read one record format). */
export const SELECT_OUTPUT = { records: 'records.jsonl', stats: 'stats.json' } as const;

/** `records`: curate's output; `annotations`: annotate's (or annotate-keywords'). */
export const selectContract = defineStageContract<SelectParams>()({
  inputs: ['records', 'annotations'],
  outputs: SELECT_OUTPUT,
});

export type SelectContext = ContextOf<typeof selectContract>;
