import { defineStageKind } from '../../runner/stage-kind.ts';
import { CURATE_OUTPUT } from '../curate/contract.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { llmEstimate, storedRows } from '../llm/llm-estimate.ts';
import { llmFingerprints, llmPreflight } from '../llm/llm-preflight.ts';
import { llmStageResources } from '../llm/llm-settings.ts';
import { llmSchema } from '../shared/spec-fragments.ts';
import { ANNOTATE_PROMPT_DIGEST, annotationRequest } from './annotate-prompt.ts';
import { annotateContract } from './contract.ts';
import { runAnnotate } from './run-annotate.ts';

/** One of the 29 categories per figure, from its metadata, by an LLM. */
export const annotateKind = defineStageKind({
  name: 'annotate',
  version: 1,
  description: 'label each figure with one of 29 skin-disease categories using the LLM',
  contract: annotateContract,
  tracking: { metricPrefix: 'llm/annotate' },
  deterministic: false,
  resources: llmStageResources,
  fingerprints: (params) => ({ ...llmFingerprints(params.llm), prompt: ANNOTATE_PROMPT_DIGEST }),
  preflight: (params, ctx) => llmPreflight(params.llm, ctx),
  estimate: async (params, ctx) => {
    const records = await storedRows<CuratedRecord>(ctx, 'records', CURATE_OUTPUT.records);
    return llmEstimate(
      params.llm,
      records?.map(annotationRequest),
      'calls unknown until curate is stored (one per curated figure)',
    );
  },
  run: (ctx) => runAnnotate(ctx),
  paramsSchema: { type: 'object', properties: { llm: llmSchema } },
});
