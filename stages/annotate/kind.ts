import { defineStageKind } from '../../runner/stage-kind.ts';
import { llmFingerprints, llmPreflight } from '../llm/llm-preflight.ts';
import { llmSchema } from '../shared/spec-fragments.ts';
import { ANNOTATE_PROMPT_DIGEST } from './annotate-prompt.ts';
import { runAnnotate } from './run-annotate.ts';

export interface AnnotateParams {
  llm: Record<string, unknown>;
}

/** One of the 29 categories per figure, from its metadata, by an LLM. */
export const annotateKind = defineStageKind<AnnotateParams>({
  name: 'annotate',
  version: 1,
  description: 'label each figure with one of 29 skin-disease categories using the LLM',
  inputs: ['records'],
  deterministic: false,
  resources: (params) => ({ cpu: 1, llm: String(params.llm.provider ?? 'local') }),
  fingerprints: (params) => ({ ...llmFingerprints(params.llm), prompt: ANNOTATE_PROMPT_DIGEST }),
  preflight: (params) => llmPreflight(params.llm),
  run: (ctx) => runAnnotate(ctx),
  paramsSchema: { type: 'object', properties: { llm: llmSchema } },
});
