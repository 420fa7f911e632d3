import type { PreflightCheck } from '../../runner/preflight-check.ts';
import { defineStageKind } from '../../runner/stage-kind.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { llmStageResources, resolveLlmSettings } from '../llm/llm-settings.ts';
import { SELECT_OUTPUT } from '../select/contract.ts';
import { llmSchema, seedSchema } from '../shared/spec-fragments.ts';
import { generateQaContract } from './contract.ts';

// Hooks load their code on first call (see stages/curate/kind.ts).
const llm = () => import('../llm/llm-preflight.ts');
const llmKey = () => import('../llm/llm-fingerprints.ts');
const prompt = () => import('./qa-prompt.ts');
const bank = () => import('./question-bank.ts');
const code = () => import('./run-generate-qa.ts');

/** Synthetic QA: questions drawn from the bank, each answered in its own LLM call. */
export const generateQaKind = defineStageKind({
  name: 'generate-qa',
  version: 1,
  description: 'draw questions from the bank and have the LLM answer each from the figure metadata',
  contract: generateQaContract,
  tracking: { metricPrefix: 'llm/generate-qa' },
  deterministic: false,
  resources: llmStageResources,
  fingerprints: async (params) => ({
    ...(await (await llmKey()).llmFingerprints(params.llm)),
    prompt: (await prompt()).QA_PROMPT_DIGEST,
    question_bank: (await bank()).QUESTION_BANK_DIGEST,
  }),
  preflight: async (params, ctx) => {
    const { QUESTION_BANK } = await bank();
    const perImage = params.data.questions_per_image;
    const check: PreflightCheck =
      perImage > QUESTION_BANK.length
        ? {
            part: 'spec',
            subject: 'question bank',
            outcome: 'failed',
            detail: `it holds ${QUESTION_BANK.length} questions; ask for at most that many per image`,
            setting: 'data.questions_per_image',
          }
        : {
            part: 'spec',
            subject: 'question bank',
            outcome: 'passed',
            detail: `${perImage} of ${QUESTION_BANK.length} questions per image`,
          };
    return [...(await (await llm()).llmPreflight(params.llm, ctx)), check];
  },
  estimate: async (params, ctx) => {
    const { llmEstimate, storedRows } = await import('../llm/llm-estimate.ts');
    const { qaRequest } = await prompt();
    const { qaItems } = await code();
    const records = await storedRows<CuratedRecord>(ctx, 'images', SELECT_OUTPUT.records);
    const budget = resolveLlmSettings(params.llm).max_output_tokens;
    const perImage = params.data.questions_per_image;
    return llmEstimate(
      params.llm,
      records &&
        qaItems(records, perImage, params.seed).map(({ record, question }) =>
          qaRequest(record, question, budget),
        ),
      `calls unknown until select is stored (${perImage} per selected image)`,
    );
  },
  run: async (ctx) => (await code()).runGenerateQa(ctx),
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
