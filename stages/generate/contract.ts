import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import type { GenerateOutputs, GenerateSettings } from '../model-worker/worker-job.ts';

/** The worker's generation settings are this kind's `generate` section (job-schema.ts). */
export interface GenerateParams {
  model: { base: string; revision: string };
  generate: GenerateSettings;
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
