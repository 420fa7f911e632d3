/**
 * Four transfers at once fill a fast link without one slow shard holding up the reader. Here,
 * with the schema that shows it, so that declaring the curate kind loads no shard reader.
 */
export const DEFAULT_DOWNLOADS = 4;

/**
 * What a column of a table source can be, for `data.columns`. Written once here: the schema
 * lists them, and stages/sources/column-mapping.ts resolves them against a file's columns.
 */
export const COLUMN_ROLES = {
  id: 'the record id, unique in the source (default: the image path, else the row number)',
  image: 'image bytes (a binary column, or a {bytes, path} struct) or a path relative to the file',
  caption: 'the caption the model is tuned and prompted on',
  group: 'what the split keeps on one side: a patient, a case, an article (default: each record)',
  label: 'the category, for data.labeller: from_source (one of data.categories, by name or number)',
  question: 'the question, for data.qa: from_source',
  answer: 'the reference answer, for data.qa: from_source',
  context: 'text that describes the case beyond the caption (BIOMEDICA: the figure mentions)',
} as const;

export type ColumnRole = keyof typeof COLUMN_ROLES;

/** `data.columns`: no defaults here, so a spec that sets none keeps its stage keys. */
export const columnsSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    "Which column of a table source (imagefolder, manifest, parquet) holds what; a column left out takes the source's default name when the file has it.",
  properties: Object.fromEntries(
    Object.entries(COLUMN_ROLES).map(([role, description]) => [
      role,
      { type: 'string', minLength: 1, description },
    ]),
  ) as Record<ColumnRole, { type: 'string'; minLength: 1; description: string }>,
};

const relativePath = (description: string) =>
  ({
    type: 'string',
    minLength: 1,
    'x-relative-path': true,
    // Where the files lie is no part of what they hold: the key reads their content.
    'x-not-in-key': true,
    description,
  }) as const;

/** The table sources' shapes, one entry of `data.source`'s anyOf each. */
export const tableSourceSchemas = [
  {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'path'],
    properties: {
      type: { const: 'imagefolder' },
      path: relativePath(
        "A folder of images in the hub's imagefolder convention, with metadata.jsonl or metadata.csv naming each image's file_name.",
      ),
    },
  },
  {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'path'],
    properties: {
      type: { const: 'manifest' },
      path: relativePath(
        'A .jsonl or .csv file, one record a line or row; image paths are relative to it.',
      ),
    },
  },
  {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'paths'],
    properties: {
      type: { const: 'parquet' },
      paths: {
        type: 'array',
        minItems: 1,
        items: relativePath('A Parquet file; image paths in it are relative to it.'),
        'x-not-in-key': true,
        description: 'Parquet files, read in order, row group by row group.',
      },
    },
  },
  {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'repo', 'revision', 'files'],
    properties: {
      type: { const: 'parquet' },
      repo: { type: 'string', minLength: 1, description: 'Dataset repo id on the hub.' },
      revision: {
        type: 'string',
        minLength: 1,
        description:
          "Commit, branch or ref (refs/convert/parquet: the hub's Parquet conversion); resolved to a commit that enters the key.",
      },
      files: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1 },
        description: 'Parquet files inside the repo, read in order.',
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
] as const;

/**
 * The schema of `data.source`, shared by the kinds that read it (curate reads the shards;
 * subset's preflight estimates whether they can meet its train size).
 */
export const dataSourceSchema = {
  description:
    'Where the data comes from: BIOMEDICA WebDataset shards (local or hub), an image folder, a JSONL/CSV manifest, or Parquet files.',
  'x-expects':
    'BIOMEDICA shards {type: local, paths} or {type: hub, repo, revision, shards}, or a table source {type: imagefolder, path}, {type: manifest, path} or {type: parquet, paths} or {type: parquet, repo, revision, files}',
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
    ...tableSourceSchemas,
  ],
} as const;
