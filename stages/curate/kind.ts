import { defineStageKind } from '../../runner/stage-kind.ts';
import { curateFingerprints, curatePreflight, runCurate } from './run-curate.ts';

export interface CurateParams {
  data: {
    source:
      | { type: 'local'; paths: string[] }
      | {
          type: 'hub';
          repo: string;
          revision: string;
          shards: string[];
          endpoint?: string;
          token_env?: string;
        };
    filter: { primary_label: string; secondary_label: string };
    limit?: number;
  };
}

/** BIOMEDICA shards in, the clinical skin-lesion figures with their metadata out. */
export const curateKind = defineStageKind<CurateParams>({
  name: 'curate',
  // 2: figures whose bytes do not decode as an image are dropped ('not-an-image').
  version: 2,
  description: 'stream BIOMEDICA shards and keep clinical skin-lesion figures with their metadata',
  inputs: [],
  deterministic: true,
  resources: { cpu: 1 },
  fingerprints: curateFingerprints,
  preflight: curatePreflight,
  run: runCurate,
  paramsSchema: {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        additionalProperties: false,
        properties: {
          source: {
            description: 'Where the BIOMEDICA WebDataset shards come from.',
            'x-expects':
              'a local source {type: local, paths: [...]} or a hub source {type: hub, repo, revision, shards: [...]}',
            anyOf: [
              {
                type: 'object',
                additionalProperties: false,
                required: ['type', 'paths'],
                properties: {
                  type: { const: 'local' },
                  paths: {
                    type: 'array',
                    minItems: 1,
                    items: { type: 'string', minLength: 1, 'x-relative-path': true },
                    description: 'Tar shard files, relative to the spec file that names them.',
                  },
                },
              },
              {
                type: 'object',
                additionalProperties: false,
                required: ['type', 'repo', 'revision', 'shards'],
                properties: {
                  type: { const: 'hub' },
                  repo: {
                    type: 'string',
                    minLength: 1,
                    description: 'Dataset repo id on the hub.',
                  },
                  revision: {
                    type: 'string',
                    minLength: 1,
                    description: 'Commit sha of the dataset revision; it enters the stage key.',
                  },
                  shards: {
                    type: 'array',
                    minItems: 1,
                    items: { type: 'string', minLength: 1 },
                    description: 'Shard paths inside the repo.',
                  },
                  endpoint: {
                    type: 'string',
                    description: 'Hub endpoint (default https://huggingface.co, or HF_ENDPOINT).',
                  },
                  token_env: {
                    type: 'string',
                    pattern: '^[A-Z_][A-Z0-9_]*$',
                    description:
                      'Name of the environment variable holding the hub token (default HF_TOKEN).',
                  },
                },
              },
            ],
          },
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
