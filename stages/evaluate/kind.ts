import { defineStageKind } from '../../runner/stage-kind.ts';
import { seedSchema } from '../shared/spec-fragments.ts';
import { evaluateContract } from './contract.ts';
import { DEFAULT_ENCODER_REVISION } from './encoders/encoder-catalog.ts';

/** A hub encoder's revision; the commit it resolves to is recorded in the export's encoder.json. */
const encoderRevisionSchema = {
  type: 'string',
  minLength: 1,
  description: `Branch, tag or commit of a hub encoder (default ${DEFAULT_ENCODER_REVISION}); pin a commit id to make scores reproducible.`,
} as const;

/** Text metrics against the reference answers, and the semantic-matching accuracy. */
export const evaluateKind = defineStageKind({
  name: 'evaluate',
  // 2: per-line BLEU statistics, bootstrap intervals and the length-controlled view.
  version: 2,
  description: 'score predictions: BLEU, ROUGE, BERTScore, semantic-matching accuracy and more',
  contract: evaluateContract,
  tracking: { metricPrefix: 'eval' },
  deterministic: true,
  resources: { cpu: 1 },
  // Hooks load their code on first call (see stages/curate/kind.ts).
  run: async (ctx) => (await import('./run-evaluate.ts')).runEvaluate(ctx),
  // The encoders' Python set-up and export, before the sweep's first stage.
  prepare: async (params) => (await import('./run-evaluate.ts')).prepareEvaluate(params),
  // The ten evaluate stages of a sweep read the same encoders: one proof serves them all.
  preflight: (params, ctx) =>
    ctx.once(`encoders|${JSON.stringify(params.eval)}`, async () =>
      (await import('./encoders/encoder-preflight.ts')).encoderPreflight(params, { env: ctx.env }),
    ),
  fingerprints: async (params, ctx) =>
    (await import('./encoders/encoder-fingerprints.ts')).encoderFingerprints(params, {
      recent: !ctx.fresh,
    }),
  paramsSchema: {
    type: 'object',
    properties: {
      seed: seedSchema,
      eval: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          bleu: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: { smooth: { type: 'boolean', default: false } },
          },
          rouge: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: { use_stemmer: { type: 'boolean', default: false } },
          },
          bertscore: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              model: {
                type: 'string',
                default: 'all-MiniLM-L6-v2',
                description:
                  'Encoder for BERTScore (the paper: roberta-large): a packaged model, a local model folder, or a hub repo id downloaded at set-up.',
              },
              revision: encoderRevisionSchema,
              layer: { type: 'integer', minimum: 1, description: 'Hidden layer to match on.' },
              rescale_with_baseline: { type: 'boolean', default: false },
              idf: { type: 'boolean', default: false },
            },
          },
          encoder: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              model: {
                type: 'string',
                default: 'all-MiniLM-L6-v2',
                description:
                  'Sentence encoder for the semantic-matching accuracy (packaged, a folder, or a hub repo id).',
              },
              revision: encoderRevisionSchema,
            },
          },
        },
      },
    },
  },
});
