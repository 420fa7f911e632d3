import { defineStageKind } from '../../runner/stage-kind.ts';
import { columnsSchema, dataSourceSchema } from '../shared/source-schema.ts';
import { curateContract } from './contract.ts';

// The kind's code (the sources, image checks, the hub) loads when a hook is first called:
// validate reads only this declaration.
const code = () => import('./run-curate.ts');
const sourceKey = () => import('./source-key.ts');

/**
 * Any data source in (BIOMEDICA shards, an image folder, a manifest), the records that carry an
 * image, a caption and a group out, each image checked.
 */
export const curateKind = defineStageKind({
  name: 'curate',
  // 2: figures whose bytes do not decode as an image are dropped ('not-an-image').
  version: 2,
  description:
    'read the data source and keep the records with a decodable image, a caption and a group',
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
            description:
              'BIOMEDICA only: the concept labels a figure must carry (matched case-insensitively).',
            properties: {
              primary_label: { type: 'string', default: 'Clinical Imaging' },
              secondary_label: { type: 'string', default: 'Skin Lesion' },
            },
            default: {},
          },
          columns: columnsSchema,
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
