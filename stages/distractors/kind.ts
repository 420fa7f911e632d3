import { defineStageKind } from '../../runner/stage-kind.ts';
import { llmStageResources, resolveLlmSettings } from '../llm/llm-settings.ts';
import {
  categoriesSchema,
  distractorCountSchema,
  llmSchema,
  seedSchema,
} from '../shared/spec-fragments.ts';
import { SPLIT_OUTPUT } from '../split/contract.ts';
import { distractorsContract } from './contract.ts';
import type { TestQa } from './run-distractors.ts';

// Hooks load their code on first call (see stages/curate/kind.ts).
const llm = () => import('../llm/llm-preflight.ts');
const llmKey = () => import('../llm/llm-fingerprints.ts');
const prompt = () => import('./distractor-prompt.ts');

/** Plausible wrong options for each test question, for the semantic-matching accuracy. */
export const distractorsKind = defineStageKind({
  name: 'distractors',
  // 2: each wrong answer is asked for as a named look-alike condition.
  version: 2,
  description: 'have the LLM write plausible wrong options for each test question',
  contract: distractorsContract,
  tracking: { metricPrefix: 'llm/distractors' },
  deterministic: false,
  resources: llmStageResources,
  fingerprints: async (params) => ({
    ...(await (await llmKey()).llmFingerprints(params.llm)),
    prompt: (await prompt()).DISTRACTOR_PROMPT_DIGEST,
  }),
  preflight: async (params, ctx) => (await llm()).llmPreflight(params.llm, ctx),
  estimate: async (params, ctx) => {
    const { llmEstimate, storedRows } = await import('../llm/llm-estimate.ts');
    const { distractorRequest } = await prompt();
    const rows = await storedRows<TestQa>(ctx, 'split', SPLIT_OUTPUT.test);
    const budget = resolveLlmSettings(params.llm).max_output_tokens;
    const count = params.eval.distractors;
    // The first round per question; a rejected option costs another round, so this is a floor.
    return llmEstimate(
      params.llm,
      rows?.map((row) => distractorRequest(row.question, row.answer, count, [], budget)),
      'calls unknown until split is stored (one or more per test question)',
    );
  },
  run: async (ctx) => (await import('./run-distractors.ts')).runDistractors(ctx),
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      llm: llmSchema,
      data: { type: 'object', properties: { categories: categoriesSchema } },
      eval: {
        type: 'object',
        properties: {
          distractors: distractorCountSchema,
          distractor_rounds: {
            type: 'integer',
            minimum: 1,
            maximum: 5,
            default: 3,
            description:
              'LLM calls per question at most: the first asks for every option, each later one only for those the screen rejected (near the answer or each other).',
          },
          distractor_fallback: {
            enum: ['none', 'other_answers'],
            default: 'none',
            description:
              "When the LLM leaves a question short of options after its rounds: none drops the question (the paper); other_answers completes it with other test figures' answers to the same question, screened like the LLM's (for weak local models).",
          },
        },
      },
    },
  },
});
