import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface CleanQaParams {
  data: { near_duplicate_threshold: number };
}

export const CLEAN_QA_OUTPUT = {
  qa: 'qa.jsonl',
  dropped: 'dropped.jsonl',
  stats: 'stats.json',
} as const;

/** `qa`: generate-qa's output. */
export const cleanQaContract = defineStageContract<CleanQaParams>()({
  inputs: ['qa'],
  outputs: CLEAN_QA_OUTPUT,
});

export type CleanQaContext = ContextOf<typeof cleanQaContract>;
