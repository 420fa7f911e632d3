import type { CuratedRecord } from '../curate/curated-record.ts';

/**
 * One record as a data source hands it to curate: what every source can say about an image,
 * whatever its format. Curate checks the image, the caption and the group and writes the
 * curated record; what a source knows beyond that (BIOMEDICA's article metadata, a dataset's
 * own label or QA pair) rides in `fields`.
 */
export interface SourceRecord {
  /** Unique within the source: a WebDataset key, an image's file name, a row's id. */
  id: string;
  /** Where the record came from, for drop reports: a shard, or `file:row`. */
  origin: string;
  /** Absent when the source has no image for the record; curate drops it as `missing-image`. */
  image?: { extension: string; bytes: Buffer };
  /**
   * Absent or blank when the record has none (curate drops it as `missing-caption`); null when
   * the source carries no captions at all (a VQA set), so none is asked of any record.
   */
  caption?: string | null;
  /** What the split keeps on one side (BIOMEDICA: the article; a clinic: the patient). */
  group?: string;
  fields: RecordFields;
}

/**
 * The curated record's fields a source supplies beyond id, image, caption and group (BIOMEDICA's
 * article metadata; a dataset's own label, question and answer): derived from the curated record,
 * so the two cannot drift.
 */
export type RecordFields = Omit<
  CuratedRecord,
  'key' | 'image' | 'caption' | 'article_id' | 'shard'
>;

/**
 * A source's say about one item: a record for curate to judge, or a drop the source decided
 * itself (a BIOMEDICA sample outside the label filter, a row whose image file is missing).
 */
export type SourceItem =
  | { kind: 'record'; record: SourceRecord }
  | { kind: 'drop'; id: string; origin: string; reason: SourceDropReason; detail?: string };

/**
 * Why a record was not kept; counted in curate's stats and listed in its `dropped.jsonl`. The
 * first four are BIOMEDICA's (its metadata and label filter), `missing-article-id` is its name for
 * a missing group, `missing-group` every other source's.
 */
export type SourceDropReason =
  | 'no-metadata'
  | 'missing-labels'
  | 'primary-label-mismatch'
  | 'secondary-label-mismatch'
  | 'missing-image'
  | 'not-an-image'
  | 'missing-caption'
  | 'missing-article-id'
  | 'missing-group'
  | 'duplicate-key'
  | 'entry-too-large';
