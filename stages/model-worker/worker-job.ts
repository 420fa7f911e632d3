/**
 * The JSON job the model worker reads and the JSON-line events it writes back: the whole
 * protocol, typed. The Python side of the same contract is `dermatune_worker/job.py` (which
 * validates against the generated `job.schema.json`) and `dermatune_worker/protocol.py`.
 */

/**
 * The jobs themselves are generated from the spec schema (job-schema.ts writes
 * worker-job.generated.ts and the worker's job.schema.json): every setting required, no
 * defaults of the worker's own, output names as constants.
 */
export type {
  DoctorJob,
  ExamplesJob,
  ExamplesOutputs,
  GenerateJob,
  GenerateOutputs,
  GenerateSettings,
  ModelRef,
  TrainJob,
  TrainOutputs,
  TrainSettings,
  WorkerJob,
} from './worker-job.generated.ts';

import type { TrainJob, TrainSettings } from './worker-job.generated.ts';

export type LoraSettings = TrainSettings['lora'];

export type Supervision = TrainJob['supervision'];

export type WorkerErrorKind =
  | 'model-not-found'
  | 'out-of-memory'
  | 'bad-image'
  | 'bad-job'
  | 'cancelled'
  | 'internal';

export interface TrainMetric {
  event: 'metric';
  step: number;
  total_steps: number;
  epoch: number;
  /** Null when the loss was not finite. */
  loss: number | null;
  learning_rate: number;
  grad_norm: number | null;
  /** Non-padding input tokens of the optimizer step. */
  tokens: number;
  tokens_per_second: number;
}

export type WorkerEvent =
  | {
      event: 'started';
      job_type: 'train' | 'generate';
      device: string;
      precision: string;
      model: string;
      model_path: string;
      [detail: string]: unknown;
    }
  | { event: 'progress'; phase: string; done: number; total: number; unit: string }
  /** The job picked up an earlier attempt's checkpoint: training at `step`, generation at `done`. */
  | { event: 'resumed'; job_type: 'train'; step: number; total_steps: number }
  | { event: 'resumed'; job_type: 'generate'; done: number; total: number }
  | TrainMetric
  | { event: 'warning'; message: string; code?: string }
  | { event: 'error'; kind: WorkerErrorKind; message: string }
  | { event: 'done'; outputs?: Record<string, string>; summary: Record<string, unknown> };

export type WorkerDone = Extract<WorkerEvent, { event: 'done' }>;
