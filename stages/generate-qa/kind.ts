import { defineStageKind } from '../../runner/stage-kind.ts';
import { llmSchema, seedSchema } from '../shared/spec-fragments.ts';

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
