import { defineStageContract, defineStageKind } from '../../runner/stage-kind.ts';
import { DISTRACTORS_OUTPUT } from '../distractors/contract.ts';
import {
  distractorCountSchema,
  distractorSourceSchema,
  seedSchema,
} from '../shared/spec-fragments.ts';

export interface DistractorsFromAnswersParams {
  seed: number;
  eval: { distractors: number; distractor_source: 'llm' | 'other_answers' };
}

/** `split`: split's output; writes what the LLM kind writes, so evaluate reads either. */
export const distractorsFromAnswersContract = defineStageContract<DistractorsFromAnswersParams>()({
  inputs: ['split'],
  outputs: DISTRACTORS_OUTPUT,
});

/**
 * `eval.distractor_source: other_answers`: each test question's wrong options are other test
 * questions' answers (the same question first), screened as the LLM's are, so scoring a test set
 * asks no LLM. The LLM kind's fallback, made the whole source.
 */
export const distractorsFromAnswersKind = defineStageKind({
  name: 'distractors-from-answers',
  version: 1,
  description: "take each test question's wrong options from the other test answers (no LLM)",
  contract: distractorsFromAnswersContract,
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      eval: {
        type: 'object',
        properties: {
          distractors: distractorCountSchema,
          distractor_source: distractorSourceSchema,
        },
      },
    },
  },
  planNotes: () => [
    'wrong options from the other test answers (eval.distractor_source: other_answers): no LLM call',
  ],
  // The kind's code loads when it runs (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-distractors-from-answers.ts')).run(ctx),
});
