import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative } from 'node:path';
/*
 * Parquet through hyparquet (npm `hyparquet`, MIT, github.com/hyparam/hyparquet): a pure
 * JavaScript reader with no dependencies and no native build, kept up (1.33.0 at the time of
 * writing, releases every few weeks), that reads a file through ranged slices of an
 * `AsyncBuffer`, so a row group is read without the rest of the file, and decodes every
 * physical type, nested structs (the hub's `{bytes, path}` image column) and snappy, pyarrow's
 * default codec. The alternatives were a native binding (parquet-wasm, duckdb: a large binary
 * for a reader) or apache-arrow's JavaScript package, which reads Arrow IPC, not Parquet.
 */
import {
  asyncBufferFromFile,
  type FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from 'hyparquet';
import type { PreflightCheck } from '../../runner/preflight-check.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import {
  type HubSource,
  hubEndpoint,
  hubToken,
  resolveHubRevision,
  type SourceOptions,
} from '../biomedica/biomedica-source.ts';
import { downloadHubFile } from '../biomedica/hub-download.ts';
import { proveHubDataset } from '../biomedica/hub-preflight.ts';
import { type ResolvedColumns, resolveColumns } from './column-mapping.ts';
import type {
  DataSource,
  DataSourceFailure,
  ReadOptions,
  SourceSettings,
  UnusableSource,
} from './data-source.ts';
import { type TableRow, tableItems } from './table-records.ts';
import type { HubParquetSource, ParquetSource } from './table-source-spec.ts';

interface OpenParquet {
  path: string;
  shown: string;
  file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  metadata: FileMetaData;
  columns: ResolvedColumns;
}

/** Local Parquet files, read row group by row group; images as bytes or as relative paths. */
export const dataSource: DataSource<ParquetSource> = {
  async *read(settings, options) {
    const files = await localFiles(settings.source, options);
    if (!files.ok) {
      yield files;
      return;
    }
    for (const path of files.value) {
      const opened = await openParquet(path, settings, options.baseDir);
      if (!opened.ok) {
        yield opened;
        return;
      }
      yield* tableItems(
        rowGroups(opened.value),
        opened.value.shown,
        dirname(path),
        opened.value.columns,
      );
    }
  },
  async fingerprint(settings, options) {
    const source = settings.source;
    if ('repo' in source) {
      // The commit pins the bytes: nothing is downloaded to key a hub source.
      const commit = await resolveHubRevision(asHubSource(source), hubOptions(options));
      if (!commit.ok) return commit;
      return ok({
        'source.repo': source.repo,
        'source.revision': commit.value,
        'source.files': source.files.join(','),
      });
    }
    const digest = createHash('sha256');
    for (const [index, path] of source.paths.entries()) {
      // Opening proves the file is Parquet with the mapped columns; the key is its content.
      const opened = await openParquet(path, settings, options.baseDir);
      if (!opened.ok) return opened;
      digest.update(`${index}\u0000${await fileSha256(path)}\n`);
    }
    return ok({ 'source.parquet-sha256': digest.digest('hex') });
  },
  unpinned: (source) => ({
    'source.unpinned': 'repo' in source ? `${source.repo}@${source.revision}` : 'parquet',
  }),
  async preflight(settings, ctx) {
    const source = settings.source;
    // The hub's files are proven by the revision API and a HEAD each (the token, the gate);
    // their columns are read once they are downloaded.
    if ('repo' in source) {
      return (await proveHubDataset({ ...asHubSource(source), shards: source.files }, ctx)).checks;
    }
    const checks: PreflightCheck[] = [];
    for (const path of source.paths) {
      const opened = await openParquet(path, settings, projectRoot());
      checks.push(
        opened.ok
          ? {
              part: 'data',
              subject: `parquet ${opened.value.shown}`,
              outcome: 'passed',
              detail: describe(opened.value),
            }
          : {
              part: 'data',
              subject: 'parquet',
              outcome: 'failed',
              detail: opened.error.message,
              setting: opened.error.setting,
            },
      );
    }
    return checks;
  },
  async estimate(settings) {
    if ('repo' in settings.source) {
      return { amounts: {}, note: 'the files are downloaded once into the store and reused' };
    }
    let rows = 0;
    for (const path of settings.source.paths) {
      const opened = await openParquet(path, settings, projectRoot());
      if (!opened.ok) return { amounts: {} };
      rows += Number(opened.value.metadata.num_rows);
    }
    return { amounts: {}, note: `${rows} records, read locally` };
  },
  async planNotes(settings) {
    const source = settings.source;
    if ('repo' in source) {
      return [`data: parquet ${source.repo}@${source.revision}: ${source.files.join(', ')}`];
    }
    const lines: string[] = [];
    for (const path of source.paths) {
      const opened = await openParquet(path, settings, projectRoot());
      lines.push(
        `data: ${opened.ok ? `parquet ${opened.value.shown}: ${describe(opened.value)}` : opened.error.message}`,
      );
    }
    return lines;
  },
  missingGroup: 'missing-group',
};

/**
 * The files to open: local ones as they are; a hub source's downloaded into the store's cache at
 * the commit its revision resolves to (resumable, each checked against the hub's size and hash).
 */
async function localFiles(
  source: ParquetSource,
  options: ReadOptions,
): Promise<Result<string[], DataSourceFailure>> {
  if (!('repo' in source)) return ok(source.paths);
  const hub = asHubSource(source);
  const sourceOptions = hubOptions(options);
  const commit = await resolveHubRevision(hub, sourceOptions);
  if (!commit.ok) return commit;
  const files: string[] = [];
  for (const path of source.files) {
    const downloaded = await downloadHubFile({
      endpoint: hubEndpoint(hub, sourceOptions),
      repo: source.repo,
      revision: commit.value,
      path,
      token: hubToken(hub, sourceOptions),
      cacheDir: options.cacheDir,
      signal: options.signal,
      onAttempt: (note) => options.log?.(`${path}: ${note}`),
    });
    if (!downloaded.ok) return fail({ ...downloaded.error, shard: path });
    files.push(downloaded.value.file);
  }
  return ok(files);
}

/** The hub's client code is BIOMEDICA's shard client's, which names the files `shards`. */
function asHubSource(source: HubParquetSource): HubSource {
  return {
    type: 'hub',
    repo: source.repo,
    revision: source.revision,
    shards: source.files,
    ...(source.endpoint ? { endpoint: source.endpoint } : {}),
    ...(source.token_env ? { token_env: source.token_env } : {}),
  };
}

function hubOptions(options: ReadOptions): SourceOptions {
  return {
    cacheDir: options.cacheDir,
    baseDir: options.baseDir,
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.recent ? { recent: true } : {}),
  };
}

/** Reads the footer only: a file that is not Parquet, or lacks a mapped column, stops here. */
async function openParquet(
  path: string,
  settings: SourceSettings<ParquetSource>,
  baseDir: string,
): Promise<Result<OpenParquet, UnusableSource>> {
  const shown = showPath(path, baseDir);
  const unusable = (message: string) =>
    fail<UnusableSource>({
      reason: 'unusable-source',
      message: `${shown}: ${message}`,
      setting: 'data.source.paths',
    });
  const info = await stat(path).catch(() => undefined);
  if (!info) return unusable('no such file');
  // A FIFO or a device would block or never end.
  if (!info.isFile()) return unusable('not a regular file');
  const file = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    return unusable(
      `not a Parquet file (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const names = parquetSchema(metadata).children.map((child) => child.element.name);
  const columns = resolveColumns(settings.columns, names, shown);
  if (!columns.ok) return fail({ reason: 'unusable-source', ...columns.error });
  return ok({ path, shown, file, metadata, columns: columns.value });
}

/**
 * The rows, one row group at a time and only the mapped columns: a 2 GB file is never held
 * whole. Binary columns stay bytes (`utf8: false`); string columns are strings either way.
 */
async function* rowGroups(
  opened: OpenParquet,
): AsyncGenerator<Result<TableRow, DataSourceFailure>> {
  const wanted = [...new Set(Object.values(opened.columns))];
  let rowStart = 0;
  for (const group of opened.metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file: opened.file,
        metadata: opened.metadata,
        columns: wanted,
        rowStart,
        rowEnd,
        utf8: false,
      });
    } catch (error) {
      yield fail({
        reason: 'unusable-source',
        message: `${opened.shown}: rows ${rowStart + 1}-${rowEnd} do not decode (${error instanceof Error ? error.message : String(error)})`,
        setting: 'data.source.paths',
      });
      return;
    }
    for (const [index, values] of rows.entries()) yield ok({ row: rowStart + index + 1, values });
    rowStart = rowEnd;
  }
}

function describe({ metadata, columns }: OpenParquet): string {
  const mapped = Object.entries(columns)
    .map(([role, column]) => `${role}: ${column}`)
    .join(', ');
  return `${metadata.num_rows} records in ${metadata.row_groups.length} row group(s) (${mapped})`;
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function showPath(path: string, baseDir: string): string {
  const inside = relative(baseDir, path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}
