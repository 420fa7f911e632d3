import type {
  PreflightCheck,
  PreflightContext,
  StageEstimate,
} from '../../runner/preflight-check.ts';
import type { Result } from '../../runner/result.ts';
import type { BiomedicaSource, SourceFailure } from '../biomedica/biomedica-source.ts';
import type { LabelFilter } from '../biomedica/label-filter.ts';
import type { ColumnMapping } from './column-mapping.ts';
import type { SourceItem } from './source-record.ts';
import type { TableSource } from './table-source-spec.ts';

/** `data.source`: BIOMEDICA shards (`local`, `hub`) or a table of images (every other type). */
export type DataSourceSpec = BiomedicaSource | TableSource;

/** What a source reads from the spec: its section, and the settings beside it that it owns. */
export interface SourceSettings<S extends DataSourceSpec = DataSourceSpec> {
  source: S;
  /** BIOMEDICA's concept-label filter (`data.filter`); other sources carry their own labels. */
  filter: LabelFilter;
  /** `data.columns`: which of a table's columns is the image, the caption, the group, ... */
  columns?: ColumnMapping;
}

/**
 * A whole source that cannot be used (a manifest that does not parse, a file that is not
 * Parquet, a column that is not there): one line saying which file and, where there is one,
 * which row. A bad row in a usable source is a drop instead.
 */
export interface UnusableSource {
  reason: 'unusable-source';
  /** Where and what: `own.csv:3: a double quote opened here is never closed`. */
  message: string;
  /** The setting to change; preflight prints it before the message, a failed curate too. */
  setting: string;
}

export type DataSourceFailure = SourceFailure | UnusableSource;

export interface ReadOptions {
  /** Where downloads are kept between runs (under the store). */
  cacheDir: string;
  /** Relative paths in the source resolve against it (the project root). */
  baseDir: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** The views' mode: a recent answer of the hub serves (see SourceOptions.recent). */
  recent?: boolean;
}

/**
 * The seam between the data and the study: one module per source type, each saying what curate
 * and the runner need of it. Curate consumes any source through `read`; the key, preflight,
 * the cost estimate and `plan` ask the other hooks. Modules load only when a hook runs.
 */
export interface DataSource<S extends DataSourceSpec = DataSourceSpec> {
  /** Every item, in a stable order; a failure ends the stream and fails the whole curation. */
  read(
    settings: SourceSettings<S>,
    options: ReadOptions,
  ): AsyncIterable<Result<SourceItem, DataSourceFailure>>;
  /** What pins the content for the stage key: content hashes, or a hub commit and file list. */
  fingerprint(
    settings: SourceSettings<S>,
    options: ReadOptions,
  ): Promise<Result<Record<string, string>, DataSourceFailure>>;
  /** The key's stand-in when `fingerprint` cannot answer, stable whatever the error says. */
  unpinned(source: S): Record<string, string>;
  /** The cheapest real proof that `read` will work: files there, header and columns right. */
  preflight(settings: SourceSettings<S>, ctx: PreflightContext): Promise<PreflightCheck[]>;
  /** Bytes to download, records to read, as far as is known before reading. */
  estimate(settings: SourceSettings<S>, ctx: PreflightContext): Promise<StageEstimate>;
  /** What `plan` prints about the source. */
  planNotes(settings: SourceSettings<S>, options: { recent: boolean }): Promise<string[]>;
  /** The drop reason for a record without a group (BIOMEDICA keeps its own name for it). */
  missingGroup: 'missing-article-id' | 'missing-group';
}

const modules = {
  local: () => import('../biomedica/biomedica-data-source.ts'),
  hub: () => import('../biomedica/biomedica-data-source.ts'),
  imagefolder: () => import('./imagefolder-source.ts'),
  manifest: () => import('./manifest-source.ts'),
  parquet: () => import('./parquet-source.ts'),
} satisfies Record<DataSourceSpec['type'], () => Promise<{ dataSource: DataSource<never> }>>;

/** The module of a source's type, loaded on first use. */
export async function dataSourceFor<S extends DataSourceSpec>(source: S): Promise<DataSource<S>> {
  return (await modules[source.type]()).dataSource as unknown as DataSource<S>;
}
