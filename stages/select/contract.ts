import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface SelectParams {
  data: { categories: (string | number)[] };
}

/** The kept figures, as curate's records (so later stages read one record format). */
export const SELECT_OUTPUT = { records: 'records.jsonl', stats: 'stats.json' } as const;

/**
 * `records`: curate's output; `annotations`: annotate's (or annotate-keywords'), absent when the
 * source brings its own labels (`data.labeller: from_source`).
 */
export const selectContract = defineStageContract<SelectParams>()({
  inputs: ['records'],
  optionalInputs: ['annotations'],
  outputs: SELECT_OUTPUT,
});

export type SelectContext = ContextOf<typeof selectContract>;
