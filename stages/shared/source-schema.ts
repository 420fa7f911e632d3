/**
 * Four transfers at once fill a fast link without one slow shard holding up the reader. Here,
 * with the schema that shows it, so that declaring the curate kind loads no shard reader.
 */
export const DEFAULT_DOWNLOADS = 4;

/**
 * The schema of `data.source`, shared by the kinds that read it (curate reads the shards;
 * subset's preflight estimates whether they can meet its train size).
 */
export const dataSourceSchema = {
  description: 'Where the BIOMEDICA WebDataset shards come from.',
  'x-expects':
    'a local source {type: local, paths: [...]} or a hub source {type: hub, repo, revision, shards}',
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
          // Where the shards lie is no part of what they hold: the key reads their content
          // (curate's shards-sha256 fingerprint), so a moved or re-cloned project keeps its store.
          'x-not-in-key': true,
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
          'x-expects': 'a list of shard paths, or {select: all, under: <folder>}',
          anyOf: [
            {
              type: 'array',
              minItems: 1,
              items: { type: 'string', minLength: 1 },
              description: 'Shard paths inside the repo.',
            },
            {
              type: 'object',
              additionalProperties: false,
              required: ['select'],
              properties: {
                select: {
                  const: 'all',
                  description:
                    'every .tar under `under`, listed by the hub at the pinned commit; the resolved list enters the key',
                },
                under: { type: 'string', description: 'Folder inside the repo (default: root).' },
              },
            },
          ],
        },
        downloads: {
          type: 'integer',
          minimum: 1,
          maximum: 32,
          'x-not-in-key': true,
          // No `default:` here: ajv ignores defaults inside anyOf; the reader applies it.
          description: `Shards downloaded at once, each streamed, resumable and checked (default ${DEFAULT_DOWNLOADS}); not in the key.`,
        },
        endpoint: {
          type: 'string',
          description: 'Hub endpoint (default https://huggingface.co, or HF_ENDPOINT).',
        },
        token_env: {
          type: 'string',
          pattern: '^[A-Z_][A-Z0-9_]*$',
          description: 'Name of the environment variable holding the hub token (default HF_TOKEN).',
        },
      },
    },
  ],
} as const;
