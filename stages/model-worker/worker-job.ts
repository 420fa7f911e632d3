/**
 * The JSON job the model worker reads and the JSON-line events it writes back: the whole
 * protocol, typed. The Python side of the same contract is `dermatune_worker/job.py` and
 * `dermatune_worker/protocol.py`; field names follow the experiment spec.
 */

/**
 * Every setting is required: the worker takes none of its own defaults (the spec schema,
 * stages/train/kind.ts and stages/generate/kind.ts, is where they live) and refuses a job that
 * lacks one.
 */
export interface LoraSettings {
  rank: number;
  alpha: number;
  dropout: number;
  target_modules: string[];
  /** all: every module named, vision tower and text model; text_model: the language model only. */
  scope: 'all' | 'text_model';
}

export interface TrainSettings {
  lora: LoraSettings;
  epochs: number;
  batch_size: number;
  grad_accum: number;
  learning_rate: number;
  lr_scheduler: 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';
  warmup_ratio: number;
  weight_decay: number;
  max_grad_norm: number;
  max_seq_length: number;
  /** Longest edge images are resized to before tiling; null keeps the processor's own. */
  image_size: number | null;
  gradient_checkpointing: boolean;
  /** Which tokens carry loss: the assistant turn only or the whole conversation. */
  loss_on: 'assistant' | 'all';
  device: 'auto' | 'cpu' | 'cuda';
  precision: 'auto' | 'fp32' | 'bf16' | 'fp16';
  /** Caps optimizer steps (benchmarks, smoke runs); absent or null trains all epochs. */
  max_steps?: number | null;
  /** Optimizer steps between checkpoints into `checkpoint_dir`; null (the worker's default): none. */
  checkpoint_every?: number | null;
}

export interface GenerateSettings {
  max_new_tokens: number;
  batch_size: number;
  repetition_penalty: number;
  /** 0: off; n: no n-token sequence twice within one answer (the prompt not counted). */
  no_repeat_ngram_size: number;
  do_sample: boolean;
  temperature: number;
  top_p: number;
  image_size: number | null;
  device: 'auto' | 'cpu' | 'cuda';
  precision: 'auto' | 'fp32' | 'bf16' | 'fp16';
}

export interface ModelRef {
  /** Hub id (`HuggingFaceTB/SmolVLM-Base`), a local folder, or a name under `models_dir`. */
  base: string;
  revision?: string | null;
  /** Generation only: folder of a LoRA adapter written by a train job. */
  adapter?: string | null;
}

interface JobCommon {
  /** Where bare model names (the stand-in `tiny-smolvlm-standin`) are looked up. */
  models_dir?: string | null;
  /** Whether a hub id missing from the local cache may be downloaded. */
  allow_download?: boolean;
}

interface ModelJobCommon extends JobCommon {
  /** The only folder the worker writes into. */
  output_dir: string;
  seed?: number;
  model: ModelRef;
  /** The user-turn text of caption examples. */
  caption_instruction?: string;
  /**
   * A folder that outlives a killed attempt (the stage key's resume folder): training
   * checkpoints and finished generation batches; a job that finds its own state there resumes.
   */
  checkpoint_dir?: string | null;
}

export type Supervision = 'qa' | 'caption' | 'qa_caption';

/**
 * What a job writes, by role, relative to `output_dir`. The stages' contracts (TRAIN_OUTPUT,
 * GENERATE_OUTPUT) are the one place the names are spelled: the job carries them, the worker
 * writes exactly these and refuses a job that lacks one. `adapterWeights` and `adapterConfig`
 * are what PEFT writes into the adapter folder; the worker checks they are there.
 */
export type TrainOutputs = Readonly<
  Record<'adapter' | 'adapterWeights' | 'adapterConfig' | 'job' | 'trainerLog' | 'summary', string>
>;
export type GenerateOutputs = Readonly<Record<'predictions' | 'job', string>>;

export interface TrainJob extends ModelJobCommon {
  type: 'train';
  /** JSONL records {image, question, answer, caption, kind?}; relative images resolve against image_root or the file's folder. */
  data: { train: string; image_root?: string | null };
  supervision: Supervision;
  train: TrainSettings;
  outputs: TrainOutputs;
}

/** Resolves like a train job, writes `examples.jsonl` (ids, tokens, labels) and stops. */
export interface ExamplesJob extends Omit<TrainJob, 'type' | 'outputs'> {
  type: 'examples';
}

export interface GenerateJob extends ModelJobCommon {
  type: 'generate';
  data: { test: string; image_root?: string | null };
  generate: GenerateSettings;
  outputs: GenerateOutputs;
}

export interface DoctorJob extends JobCommon {
  type: 'doctor';
  /** Training jobs whose GPU memory to estimate (the summary's memory_estimates). */
  estimates?: Array<{
    name: string;
    model: { base: string; revision?: string | null };
    train: TrainSettings;
  }>;
}

export type WorkerJob = TrainJob | ExamplesJob | GenerateJob | DoctorJob;

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
