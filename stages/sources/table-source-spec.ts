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

/** Local Parquet files, images as bytes columns or as paths relative to each file. */
export interface ParquetSource {
  type: 'parquet';
  paths: string[];
}
