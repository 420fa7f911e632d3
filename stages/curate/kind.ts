import { defineStageKind } from '../../runner/stage-kind.ts';
import { dataSourceSchema } from '../shared/source-schema.ts';
import { curateContract } from './contract.ts';

// The kind's code (shard reading, image checks, the hub) loads when a hook is first called:
// validate reads only this declaration.
const code = () => import('./run-curate.ts');
const sourceKey = () => import('./source-key.ts');

/** BIOMEDICA shards in, the clinical skin-lesion figures with their metadata out. */
export const curateKind = defineStageKind({
  name: 'curate',
  // 2: figures whose bytes do not decode as an image are dropped ('not-an-image').
  version: 2,
  description: 'stream BIOMEDICA shards and keep clinical skin-lesion figures with their metadata',
  contract: curateContract,
  deterministic: true,
  resources: { cpu: 1 },
  fingerprints: async (params, ctx) => (await sourceKey()).curateFingerprints(params, ctx),
  preflight: async (params, ctx) => (await code()).curatePreflight(params, ctx),
  estimate: async (params, ctx) => (await code()).curateEstimate(params, ctx),
  planNotes: async (params) => (await sourceKey()).curatePlanNotes(params),
  run: async (ctx) => (await code()).runCurate(ctx),
  paramsSchema: {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        additionalProperties: false,
        properties: {
          source: dataSourceSchema,
          filter: {
            type: 'object',
            additionalProperties: false,
            description: 'Concept labels a figure must carry (matched case-insensitively).',
            properties: {
              primary_label: { type: 'string', default: 'Clinical Imaging' },
              secondary_label: { type: 'string', default: 'Skin Lesion' },
            },
            default: {},
          },
          limit: {
            type: 'integer',
            minimum: 1,
            description: 'Stop after this many kept figures (for quick trials).',
          },
        },
        required: ['source'],
      },
    },
  },
});
