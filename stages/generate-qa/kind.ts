import { defineStageKind } from '../../runner/stage-kind.ts';
import { llmFingerprints, llmPreflight } from '../llm/llm-preflight.ts';
import { llmSchema, seedSchema } from '../shared/spec-fragments.ts';
import { QA_PROMPT_DIGEST } from './qa-prompt.ts';
import { QUESTION_BANK, QUESTION_BANK_DIGEST } from './question-bank.ts';
import { runGenerateQa } from './run-generate-qa.ts';

export interface GenerateQaParams {
  seed: number;
  llm: Record<string, unknown>;
  data: { questions_per_image: number };
}

/** Synthetic QA: questions drawn from the bank, each answered in its own LLM call. */
export const generateQaKind = defineStageKind<GenerateQaParams>({
  name: 'generate-qa',
  version: 1,
  description: 'draw questions from the bank and have the LLM answer each from the figure metadata',
  inputs: ['images'],
  deterministic: false,
  resources: (params) => ({ cpu: 1, llm: String(params.llm.provider ?? 'local') }),
  fingerprints: (params) => ({
    ...llmFingerprints(params.llm),
    prompt: QA_PROMPT_DIGEST,
    question_bank: QUESTION_BANK_DIGEST,
  }),
  preflight: (params) => [
    ...llmPreflight(params.llm),
    ...((params.data?.questions_per_image ?? 3) > QUESTION_BANK.length
      ? [
          {
            path: 'data.questions_per_image',
            message: `the question bank holds ${QUESTION_BANK.length} questions; ask for at most that many per image`,
          },
        ]
      : []),
  ],
  run: (ctx) => runGenerateQa(ctx),
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      llm: llmSchema,
      data: {
        type: 'object',
        properties: {
          questions_per_image: {
            type: 'integer',
            minimum: 1,
            maximum: 20,
            default: 3,
            description: 'Questions per image, drawn to cover both question kinds.',
          },
        },
      },
    },
  },
});
