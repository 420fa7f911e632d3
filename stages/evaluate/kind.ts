import { defineStageKind } from '../../runner/stage-kind.ts';
import { seedSchema } from '../shared/spec-fragments.ts';
import { runEvaluate } from './run-evaluate.ts';

export interface EvaluateParams {
  seed: number;
  eval: {
    bleu: { smooth: boolean };
    rouge: { use_stemmer: boolean };
    bertscore: { model: string; layer?: number; rescale_with_baseline: boolean; idf: boolean };
    encoder: { model: string };
  };
}

/** Text metrics against the reference answers, and the semantic-matching accuracy. */
export const evaluateKind = defineStageKind<EvaluateParams>({
  name: 'evaluate',
  // 2: per-line BLEU statistics, bootstrap intervals and the length-controlled view.
  version: 2,
  description: 'score predictions: BLEU, ROUGE, BERTScore, semantic-matching accuracy and more',
  inputs: ['predictions', 'distractors'],
  deterministic: true,
  resources: { cpu: 1 },
  run: (ctx) => runEvaluate(ctx),
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
                  'Encoder for BERTScore (the paper: roberta-large; here what a package ships).',
              },
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
                description: 'Sentence encoder for the semantic-matching accuracy.',
              },
            },
          },
        },
      },
    },
  },
});
