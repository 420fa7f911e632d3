import { defineStageKind } from '../../runner/stage-kind.ts';
import { labellerSchema } from '../shared/spec-fragments.ts';
import { annotateKeywordsContract } from './contract.ts';

/**
 * `data.labeller: keywords`: labels figures by the condition terms their text names, instead of
 * asking an LLM. Writes the same annotations.jsonl as `annotate`, so select reads either.
 */
export const annotateKeywordsKind = defineStageKind({
  name: 'annotate-keywords',
  version: 1,
  description:
    'label each figure by the condition terms its caption and mentions name (offline stand-in)',
  contract: annotateKeywordsContract,
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: { data: { type: 'object', properties: { labeller: labellerSchema } } },
  },
  // The kind's code loads when it runs (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-annotate-keywords.ts')).runAnnotateKeywords(ctx),
});
