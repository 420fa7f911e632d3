import { defineStageKind } from '../../runner/stage-kind.ts';
import { modelWorkerFingerprints } from '../model-worker/model-ref.ts';
import {
  modelBaseSchema,
  modelRevisionSchema,
  seedSchema,
  supervisionSchema,
} from '../shared/spec-fragments.ts';
import { runTrain, trainRemote } from './run-train.ts';

export interface TrainParams {
  seed: number;
  model: { base: string; revision: string };
  data: { supervision: 'qa' | 'caption' | 'qa_caption' };
  train: TrainSettings;
}

export interface TrainSettings {
  method: 'lora' | 'none';
  /** Seeds training alone; absent: the spec's `seed`. */
  seed?: number;
  lora: { rank: number; alpha: number; dropout: number; target_modules: string[] };
  epochs: number;
  batch_size: number;
  grad_accum: number;
  learning_rate: number;
  lr_scheduler: 'linear' | 'cosine' | 'constant';
  warmup_ratio: number;
  weight_decay: number;
  max_seq_length: number;
  image_size: number;
  gradient_checkpointing: boolean;
  loss_on: 'assistant' | 'all';
  device: 'auto' | 'cpu' | 'cuda';
  precision: 'auto' | 'fp32' | 'bf16' | 'fp16';
}

/** LoRA fine-tuning of the vision-language model in the Python worker. */
export const trainKind = defineStageKind<TrainParams>({
  name: 'train',
  version: 1,
  description: 'LoRA fine-tuning of the VLM with PEFT in the Python worker',
  inputs: ['train_set', 'images'],
  deterministic: false,
  resources: { cpu: 2, gpu: 1 },
  // The worker's code and pins, the model id and revision (and the stand-in's builder) decide the output.
  fingerprints: (params) => modelWorkerFingerprints(params.model),
  run: runTrain,
  remote: trainRemote,
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      model: {
        type: 'object',
        additionalProperties: false,
        properties: { base: modelBaseSchema, revision: modelRevisionSchema },
        required: ['base'],
      },
      data: {
        type: 'object',
        properties: { supervision: supervisionSchema },
      },
      train: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          method: {
            enum: ['lora', 'none'],
            default: 'lora',
            description:
              'lora: fine-tune with LoRA; none: evaluate model.base as it is (the untuned baseline).',
          },
          seed: {
            type: 'integer',
            minimum: 0,
            description:
              "Seed of the training run alone (LoRA initialisation, example order, dropout); absent: the spec's seed. Only train reads it, so `sweep.replicates: {train.seed: [1, 2, 3]}` repeats training, generation and evaluation on one shared data chain and test set.",
          },
          lora: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              rank: {
                type: 'integer',
                minimum: 1,
                maximum: 1024,
                default: 8,
                description: 'LoRA rank r.',
              },
              alpha: {
                type: 'number',
                exclusiveMinimum: 0,
                default: 32,
                description: 'LoRA scaling alpha.',
              },
              dropout: {
                type: 'number',
                minimum: 0,
                exclusiveMaximum: 1,
                default: 0.1,
                description: 'Dropout on the LoRA path, in [0, 1).',
              },
              target_modules: {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { type: 'string', minLength: 1 },
                default: ['q_proj', 'v_proj'],
                description: 'Linear layers that get adapters (the paper: q_proj and v_proj).',
              },
            },
          },
          epochs: { type: 'number', exclusiveMinimum: 0, default: 2 },
          batch_size: {
            type: 'integer',
            minimum: 1,
            default: 1,
            description: 'Per-device batch size.',
          },
          grad_accum: {
            type: 'integer',
            minimum: 1,
            default: 4,
            description: 'Gradient accumulation steps (effective batch = batch_size x grad_accum).',
          },
          learning_rate: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.0001 },
          lr_scheduler: { enum: ['linear', 'cosine', 'constant'], default: 'linear' },
          warmup_ratio: { type: 'number', minimum: 0, maximum: 1, default: 0 },
          weight_decay: { type: 'number', minimum: 0, default: 0.01 },
          max_seq_length: { type: 'integer', minimum: 16, default: 1024 },
          image_size: {
            type: 'integer',
            minimum: 16,
            default: 384,
            description: 'Longest image edge fed to the vision encoder.',
          },
          gradient_checkpointing: { type: 'boolean', default: false },
          loss_on: {
            enum: ['assistant', 'all'],
            default: 'assistant',
            description:
              'assistant: only the answer tokens carry loss; all: the user turn too (image tokens never).',
          },
          device: { enum: ['auto', 'cpu', 'cuda'], default: 'auto' },
          precision: {
            enum: ['auto', 'fp32', 'bf16', 'fp16'],
            default: 'auto',
            description: 'auto: bf16 on a GPU that supports it, else fp16 on GPU, fp32 on the CPU.',
          },
        },
      },
    },
  },
});
