import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import { CLEAN_QA_OUTPUT } from '../clean-qa/contract.ts';

export interface SourceQaParams {
  data: { qa: 'llm' | 'from_source' };
}

/**
 * It stands where clean-qa stands in the chain, so split reads its pairs under clean-qa's name.
 */
export const SOURCE_QA_OUTPUT = { qa: CLEAN_QA_OUTPUT.qa, stats: 'stats.json' } as const;

/** `images`: select's output (the selected records, with their questions and answers). */
export const sourceQaContract = defineStageContract<SourceQaParams>()({
  inputs: ['images'],
  outputs: SOURCE_QA_OUTPUT,
});

export type SourceQaContext = ContextOf<typeof sourceQaContract>;
