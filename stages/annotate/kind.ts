import { defineStageKind } from '../../runner/stage-kind.ts';
import { CURATE_OUTPUT } from '../curate/contract.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { llmStageResources } from '../llm/llm-settings.ts';
import { llmSchema } from '../shared/spec-fragments.ts';
import { annotateContract } from './contract.ts';

// Hooks load their code on first call (see stages/curate/kind.ts).
const llm = () => import('../llm/llm-preflight.ts');
const llmKey = () => import('../llm/llm-fingerprints.ts');
const prompt = () => import('./annotate-prompt.ts');

/** One of the 29 categories per figure, from its metadata, by an LLM. */
export const annotateKind = defineStageKind({
  name: 'annotate',
  version: 1,
  description: 'label each figure with one of 29 skin-disease categories using the LLM',
  contract: annotateContract,
  tracking: { metricPrefix: 'llm/annotate' },
  deterministic: false,
  resources: llmStageResources,
  fingerprints: async (params) => ({
    ...(await (await llmKey()).llmFingerprints(params.llm)),
    prompt: (await prompt()).ANNOTATE_PROMPT_DIGEST,
  }),
  preflight: async (params, ctx) => (await llm()).llmPreflight(params.llm, ctx),
  estimate: async (params, ctx) => {
    const { llmEstimate, storedRows } = await import('../llm/llm-estimate.ts');
    const { annotationRequest } = await prompt();
    const records = await storedRows<CuratedRecord>(ctx, 'records', CURATE_OUTPUT.records);
    return llmEstimate(
      params.llm,
      records?.map(annotationRequest),
      'calls unknown until curate is stored (one per curated figure)',
    );
  },
  run: async (ctx) => (await import('./run-annotate.ts')).runAnnotate(ctx),
  paramsSchema: { type: 'object', properties: { llm: llmSchema } },
});
