import { defineStageKind } from '../../runner/stage-kind.ts';
import {
  deviceSchema,
  imageSizeSchema,
  modelBaseSchema,
  modelRevisionSchema,
  precisionSchema,
} from '../shared/spec-fragments.ts';
import { generateContract } from './contract.ts';

// Hooks load their code on first call (see stages/curate/kind.ts).
const code = () => import('./run-generate.ts');

/** Answers every test question with the base model, plus the adapter when there is one. */
export const generateKind = defineStageKind({
  name: 'generate',
  version: 1,
  description: 'answer the test questions with the (fine-tuned) model in the Python worker',
  contract: generateContract,
  tracking: { metricPrefix: 'generate' },
  deterministic: false,
  resources: { cpu: 2, gpu: 1 },
  // The worker code a generate job runs, its pins, the model id and revision (and the stand-in's builder) decide the output.
  fingerprints: async (params) =>
    (await import('../model-worker/model-ref.ts')).modelWorkerFingerprints(
      'generate',
      params.model,
    ),
  preflight: async (params, ctx) =>
    (await import('../model-worker/worker-preflight.ts')).baseModelPreflight(params.model, ctx),
  // The venv's torch and the stand-in's build, once, before the sweep's first stage.
  prepare: async (params) =>
    (await import('../model-worker/model-ref.ts')).prepareWorker(params.model.base),
  run: async (ctx) => (await code()).runGenerate(ctx),
  remote: async () => (await code()).generateRemote,
  paramsSchema: {
    type: 'object',
    properties: {
      model: {
        type: 'object',
        additionalProperties: false,
        properties: { base: modelBaseSchema, revision: modelRevisionSchema },
        required: ['base'],
      },
      generate: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          max_new_tokens: { type: 'integer', minimum: 1, maximum: 4096, default: 256 },
          // Keep it equal to train.image_size so tuned and untuned variants see the same pixels.
          image_size: imageSizeSchema,
          batch_size: { type: 'integer', minimum: 1, default: 8 },
          repetition_penalty: {
            type: 'number',
            minimum: 1,
            default: 1,
            description: '1 = off; above 1 discourages the repetition small models are prone to.',
          },
          no_repeat_ngram_size: {
            type: 'integer',
            minimum: 0,
            maximum: 16,
            default: 0,
            description:
              "0 = off; n: no n tokens twice in one answer (the question is not counted, so an answer may echo it). Stops the loops small models fall into under greedy decoding (the paper's authors name repetitive outputs).",
          },
          do_sample: { type: 'boolean', default: false, description: 'false: greedy decoding.' },
          temperature: { type: 'number', exclusiveMinimum: 0, default: 1 },
          top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 },
          device: deviceSchema,
          precision: precisionSchema,
        },
      },
    },
  },
});
