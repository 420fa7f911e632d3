import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface EvaluateParams {
  seed: number;
  eval: {
    bleu: { smooth: boolean };
    rouge: { use_stemmer: boolean };
    bertscore: {
      model: string;
      revision?: string;
      layer?: number;
      rescale_with_baseline: boolean;
      idf: boolean;
    };
    encoder: { model: string; revision?: string };
  };
}

/** What the evaluate stage writes into its output folder. */
export const EVALUATE_OUTPUT = {
  /** The score report without the per-line figures. */
  metrics: 'metrics.json',
  /** One line per prediction: ROUGE, BERTScore F1, leaks, the option picked. */
  examples: 'examples.jsonl',
} as const;

/**
 * `predictions`: generate's output; `distractors`: the distractors stage's, without which the
 * text metrics are scored and the semantic-matching accuracy is left out.
 */
export const evaluateContract = defineStageContract<EvaluateParams>()({
  inputs: ['predictions'],
  optionalInputs: ['distractors'],
  outputs: EVALUATE_OUTPUT,
});

export type EvaluateContext = ContextOf<typeof evaluateContract>;
