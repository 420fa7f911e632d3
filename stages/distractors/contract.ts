import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface DistractorsParams {
  seed: number;
  llm: Record<string, unknown>;
  eval: {
    distractors: number;
    distractor_rounds: number;
    distractor_fallback: 'none' | 'other_answers';
  };
  /** The selected categories: the correct answers are about them, so no option is. */
  data?: { categories: (string | number)[] };
}

export const DISTRACTORS_OUTPUT = {
  distractors: 'distractors.jsonl',
  stats: 'stats.json',
} as const;

/** `split`: split's output, whose test questions get options. */
export const distractorsContract = defineStageContract<DistractorsParams>()({
  inputs: ['split'],
  outputs: DISTRACTORS_OUTPUT,
});

export type DistractorsContext = ContextOf<typeof distractorsContract>;
