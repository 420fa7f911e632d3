/** The table sources of `data.source` (schema: stages/shared/source-schema.ts). */
export type TableSource = ImageFolderSource | ManifestSource | ParquetSource;

/** The hub's imagefolder convention: images plus `metadata.jsonl` or `metadata.csv`. */
export interface ImageFolderSource {
  type: 'imagefolder';
  path: string;
}

/** A JSONL or CSV file of image paths (relative to it) and columns. */
export interface ManifestSource {
  type: 'manifest';
  path: string;
}

/** Parquet files, local or on the hub; images as bytes columns or as paths relative to a file. */
export type ParquetSource = LocalParquetSource | HubParquetSource;

export interface LocalParquetSource {
  type: 'parquet';
  paths: string[];
}

/**
 * Parquet files of a hub dataset at a revision (a branch is resolved to its commit, which
 * enters the key): the dataset's own files, or the hub's conversion (`refs/convert/parquet`).
 */
export interface HubParquetSource {
  type: 'parquet';
  repo: string;
  revision: string;
  files: string[];
  /** Defaults to HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** Name of the environment variable holding the token; defaults to HF_TOKEN. */
  token_env?: string;
}
