/**
 * One BIOMEDICA sample as the reader hands it on: the files of one WebDataset key. Metadata
 * stays loosely typed (`BiomedicaMetadata`) because the ETL's fields vary between dataset
 * versions; the curation filter reads what it needs and counts what is missing.
 */
export interface BiomedicaSample {
  /** WebDataset key: the entry path up to the first dot of its file name. */
  key: string;
  /** Which shard it came from (as given in the source), for drop reports. */
  shard: string;
  /** Bytes of `<key>.jpg` (or `.jpeg`/`.png` when a shard uses those), absent when missing. */
  image?: { extension: string; bytes: Buffer };
  /** `<key>.txt`, UTF-8. */
  caption?: string;
  /** `<key>.json` parsed; undefined when absent, `{ unparseable }` when it is not JSON. */
  metadata?: BiomedicaMetadata | { unparseable: string };
  /** A member over the reader's per-entry limit, skipped unread; curation drops the sample. */
  oversized?: { name: string; bytes: number };
}

/** The fields of the BIOMEDICA ETL that dermatune reads (see PAPER.md, data curation). */
export interface BiomedicaMetadata {
  image_file_name?: string;
  image_cluster_id?: string;
  image_hash?: string;
  image_primary_label?: string[] | string;
  image_secondary_label?: string[] | string;
  image_size?: [number, number];
  image_set?: string;
  image_context?: Record<string, string[] | string>;
  article_accession_id?: string;
  article_title?: string;
  article_journal?: string;
  article_date?: string;
  article_citation?: string;
  article_license?: string;
  article_keywords?: string[];
  article_mesh_terms?: string[];
  article_abstract?: string;
  [field: string]: unknown;
}

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp'] as const;
