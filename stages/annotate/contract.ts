import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface AnnotateParams {
  llm: Record<string, unknown>;
}

/** One label per curated figure; `annotate-keywords` writes the same file. */
export const ANNOTATE_OUTPUT = { annotations: 'annotations.jsonl', stats: 'stats.json' } as const;

/** `records`: curate's output. */
export const annotateContract = defineStageContract<AnnotateParams>()({
  inputs: ['records'],
  outputs: ANNOTATE_OUTPUT,
});

export type AnnotateContext = ContextOf<typeof annotateContract>;
