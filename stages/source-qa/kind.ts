import { defineStageKind } from '../../runner/stage-kind.ts';
import { qaSourceSchema } from '../shared/spec-fragments.ts';
import { sourceQaContract } from './contract.ts';

/**
 * `data.qa: from_source`: the QA pairs a dataset brings (`data.columns.question` and `answer`),
 * in place of generate-qa and clean-qa, so no LLM writes or tidies them.
 */
export const sourceQaKind = defineStageKind({
  name: 'source-qa',
  version: 1,
  description: "take each selected record's own question and answer as its QA pair",
  contract: sourceQaContract,
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: { data: { type: 'object', properties: { qa: qaSourceSchema } } },
  },
  // Said in `plan`, where the LLM stages would otherwise stand.
  planNotes: () => [
    "the source's own QA pairs (data.qa: from_source): generate-qa and clean-qa are left out, no LLM call",
  ],
  // The kind's code loads when it runs (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-source-qa.ts')).runSourceQa(ctx),
});
