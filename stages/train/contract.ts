import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import type {
  TrainOutputs,
  TrainSettings as WorkerTrainSettings,
} from '../model-worker/worker-job.ts';

export interface TrainParams {
  seed: number;
  model: { base: string; revision: string };
  data: { supervision: 'qa' | 'caption' | 'qa_caption' };
  train: TrainSettings;
}

/**
 * The spec's `train` section: the settings the worker's job carries (generated from this
 * kind's schema into worker-job.generated.ts), plus what only the runner reads (`method`,
 * `seed`: marked `x-not-in-job` in the schema).
 */
export interface TrainSettings extends Omit<WorkerTrainSettings, 'max_steps'> {
  method: 'lora' | 'none';
  /** Seeds training alone; absent: the spec's `seed`. */
  seed?: number;
}

/** What the worker writes for a training job; the job carries these names (TrainOutputs). */
export const TRAIN_OUTPUT = {
  adapter: 'adapter',
  adapterWeights: 'adapter/adapter_model.safetensors',
  adapterConfig: 'adapter/adapter_config.json',
  job: 'job.json',
  trainerLog: 'trainer-log.jsonl',
  summary: 'train-summary.json',
} as const satisfies TrainOutputs;

/** `train_set`: subset's output; `images`: curate's (the records' image paths are relative to it). */
export const trainContract = defineStageContract<TrainParams>()({
  inputs: ['train_set', 'images'],
  outputs: TRAIN_OUTPUT,
});

export type TrainContext = ContextOf<typeof trainContract>;
