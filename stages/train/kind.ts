import { defineStageKind } from '../../runner/stage-kind.ts';
import {
  deviceSchema,
  imageSizeSchema,
  modelBaseSchema,
  modelRevisionSchema,
  precisionSchema,
  seedSchema,
  supervisionSchema,
} from '../shared/spec-fragments.ts';
import { trainContract } from './contract.ts';

// Hooks load their code on first call (see stages/curate/kind.ts).
const code = () => import('./run-train.ts');
const worker = () => import('../model-worker/worker-preflight.ts');

/** LoRA fine-tuning of the vision-language model in the Python worker. */
export const trainKind = defineStageKind({
  name: 'train',
  version: 1,
  description: 'LoRA fine-tuning of the VLM with PEFT in the Python worker',
  contract: trainContract,
  tracking: { metricPrefix: 'train' },
  deterministic: false,
  resources: { cpu: 2, gpu: 1 },
  // The worker code a train job runs, its pins, the model id and revision (and the stand-in's builder) decide the output.
  fingerprints: async (params) =>
    (await import('../model-worker/model-ref.ts')).modelWorkerFingerprints('train', params.model),
  preflight: async (params, ctx) => [
    ...(await (await worker()).baseModelPreflight(params.model, ctx)),
    ...(await (await worker()).cudaPreflight(params.train?.device, ctx)),
    ...(await (await code()).trainMemoryPreflight(params)),
  ],
  // The venv's torch and the stand-in's build, once, before the sweep's first stage.
  prepare: async (params) =>
    (await import('../model-worker/model-ref.ts')).prepareWorker(params.model.base),
  run: async (ctx) => (await code()).runTrain(ctx),
  remote: async () => (await code()).trainRemote,
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
            // The runner's choice of chain (a train stage or none); the worker never sees it.
            'x-not-in-job': true,
            description:
              'lora: fine-tune with LoRA; none: evaluate model.base as it is (the untuned baseline).',
          },
          seed: {
            type: 'integer',
            minimum: 0,
            // The job's own `seed` carries it (or the spec's seed when absent).
            'x-not-in-job': true,
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
                description:
                  'Linear layers that get adapters (the paper: q_proj and v_proj). In SmolVLM these names occur in both the vision tower and the text model.',
              },
              scope: {
                enum: ['all', 'text_model'],
                default: 'all',
                description:
                  'all: every module named in target_modules, vision tower and text model alike (what the paper’s setting does with PEFT); text_model: only those of the language model.',
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
          lr_scheduler: {
            enum: ['linear', 'cosine', 'constant', 'constant_with_warmup'],
            default: 'linear',
            description:
              "transformers' get_scheduler names; warmup_ratio sets the warm-up of linear, cosine and constant_with_warmup.",
          },
          warmup_ratio: { type: 'number', minimum: 0, maximum: 1, default: 0 },
          // HF TrainingArguments' default; the paper names none.
          weight_decay: { type: 'number', minimum: 0, default: 0 },
          max_grad_norm: {
            type: 'number',
            minimum: 0,
            default: 1,
            description: 'Gradient clipping norm (HF TrainingArguments’ default); 0 turns it off.',
          },
          max_seq_length: {
            type: 'integer',
            minimum: 16,
            default: 2048,
            description:
              'Token cap per example. SmolVLM splits a 1536 px image into up to 16 tiles + 1 global, 81 tokens each: about 1,400 image tokens, so 2048 leaves the text room.',
          },
          image_size: imageSizeSchema,
          gradient_checkpointing: { type: 'boolean', default: false },
          loss_on: {
            enum: ['assistant', 'all'],
            default: 'assistant',
            description:
              'assistant: only the answer tokens carry loss; all: the user turn too (image tokens never).',
          },
          checkpoint_every: {
            type: 'integer',
            minimum: 1,
            default: 50,
            // Checkpoints never change the adapter (a resumed training ends byte-identical on
            // the CPU): changing the interval on a preempted run resumes instead of restarting.
            'x-not-in-key': true,
            description:
              'Optimizer steps between checkpoints into the store (adapter, optimizer, RNG states, data position); a killed training resumes from the last one. Not part of the key.',
          },
          device: deviceSchema,
          precision: precisionSchema,
        },
      },
    },
  },
});
