import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface GenerateQaParams {
  seed: number;
  llm: Record<string, unknown>;
  data: { questions_per_image: number };
}

export const GENERATE_QA_OUTPUT = { qa: 'qa.jsonl', stats: 'stats.json' } as const;

/** `images`: select's output (the selected figures' records). */
export const generateQaContract = defineStageContract<GenerateQaParams>()({
  inputs: ['images'],
  outputs: GENERATE_QA_OUTPUT,
});

export type GenerateQaContext = ContextOf<typeof generateQaContract>;
