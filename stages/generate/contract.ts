import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import type { GenerateOutputs } from '../model-worker/worker-job.ts';

export interface GenerateParams {
  model: { base: string; revision: string };
  generate: {
    max_new_tokens: number;
    image_size: number | null;
    batch_size: number;
    repetition_penalty: number;
    no_repeat_ngram_size: number;
    do_sample: boolean;
    temperature: number;
    top_p: number;
    device: 'auto' | 'cpu' | 'cuda';
    precision: 'auto' | 'fp32' | 'bf16' | 'fp16';
  };
}

/** What the worker writes for a generation job; the job carries these names (GenerateOutputs). */
export const GENERATE_OUTPUT = {
  predictions: 'predictions.jsonl',
  job: 'job.json',
} as const satisfies GenerateOutputs;

/**
 * `test_set`: split's output; `images`: curate's; `adapter`: train's, absent for the untuned
 * baseline.
 */
export const generateContract = defineStageContract<GenerateParams>()({
  inputs: ['test_set', 'images'],
  optionalInputs: ['adapter'],
  outputs: GENERATE_OUTPUT,
});

export type GenerateContext = ContextOf<typeof generateContract>;
