import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import { ANNOTATE_OUTPUT } from '../annotate/contract.ts';

export interface AnnotateKeywordsParams {
  data: { labeller: string };
}

/** The same annotations file as `annotate`'s, so select reads either. */
export const annotateKeywordsContract = defineStageContract<AnnotateKeywordsParams>()({
  inputs: ['records'],
  outputs: { annotations: ANNOTATE_OUTPUT.annotations },
});

export type AnnotateKeywordsContext = ContextOf<typeof annotateKeywordsContract>;
