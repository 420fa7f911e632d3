import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { PreflightCheck } from '../../runner/preflight-check.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import { type ResolvedColumns, resolveColumns } from './column-mapping.ts';
import type { DataSource, SourceSettings, UnusableSource } from './data-source.ts';
import { readTableFile, type TableFile } from './table-file.ts';
import { tableItems } from './table-records.ts';
import type { ImageFolderSource, ManifestSource } from './table-source-spec.ts';

/** Where a source's table file is, and how messages name it. */
export interface TableLocation {
  path: string;
  setting: string;
}

interface OpenTable {
  shown: string;
  dir: string;
  table: TableFile;
  columns: ResolvedColumns;
}

/**
 * A source that is one table file plus the images it names relative to its folder: a manifest,
 * or an image folder whose table is its metadata file. Both share every hook; they differ in
 * where the table is and in the image column's default name.
 */
export function fileTableSource<S extends ImageFolderSource | ManifestSource>(kind: {
  /** How plan and preflight name the source: `manifest`, `image folder`. */
  name: string;
  locate(source: S): Promise<Result<TableLocation, UnusableSource>>;
  imageDefault: string;
}): DataSource<S> {
  const open = async (
    settings: SourceSettings<S>,
    baseDir: string,
  ): Promise<Result<OpenTable, UnusableSource>> => {
    const located = await kind.locate(settings.source);
    if (!located.ok) return located;
    const shown = showPath(located.value.path, baseDir);
    const table = await readTableFile(located.value.path, shown, located.value.setting);
    if (!table.ok) return table;
    const columns = resolveColumns(settings.columns, table.value.columns, shown, kind.imageDefault);
    if (!columns.ok) return fail({ reason: 'unusable-source', ...columns.error });
    return ok({
      shown,
      dir: dirname(located.value.path),
      table: table.value,
      columns: columns.value,
    });
  };
  return {
    async *read(settings, options) {
      const opened = await open(settings, options.baseDir);
      if (!opened.ok) {
        yield opened;
        return;
      }
      const { shown, dir, table, columns } = opened.value;
      yield* tableItems(
        (async function* () {
          for (const row of table.rows) yield ok(row);
        })(),
        shown,
        dir,
        columns,
      );
    },
    async fingerprint(settings, options) {
      const opened = await open(settings, options.baseDir);
      if (!opened.ok) return opened;
      return ok({ 'source.sha256': await contentDigest(opened.value) });
    },
    unpinned: (source) => ({ 'source.unpinned': source.type }),
    async preflight(settings) {
      const opened = await open(settings, projectRoot());
      return [describeCheck(kind.name, opened)];
    },
    async estimate(settings) {
      const opened = await open(settings, projectRoot());
      return opened.ok
        ? { amounts: {}, note: `${opened.value.table.rows.length} records, read locally` }
        : { amounts: {} };
    },
    async planNotes(settings) {
      const opened = await open(settings, projectRoot());
      const check = describeCheck(kind.name, opened);
      return [`data: ${opened.ok ? `${check.subject}: ` : ''}${check.detail}`];
    },
    missingGroup: 'missing-group',
  };
}

function describeCheck(name: string, opened: Result<OpenTable, UnusableSource>): PreflightCheck {
  if (!opened.ok) {
    return {
      part: 'data',
      subject: name,
      outcome: 'failed',
      detail: opened.error.message,
      setting: opened.error.setting,
    };
  }
  const { shown, table, columns } = opened.value;
  const mapped = Object.entries(columns)
    .map(([role, column]) => `${role}: ${column}`)
    .join(', ');
  return {
    part: 'data',
    subject: `${name} ${shown}`,
    outcome: 'passed',
    detail: `${table.rows.length} records (${mapped})`,
  };
}

/**
 * The table's bytes and every image file it names, so editing a caption or replacing a
 * photograph makes a new key, while moving the folder does not (paths enter relative to it).
 */
async function contentDigest({ dir, table, columns }: OpenTable): Promise<string> {
  const digest = createHash('sha256');
  for (const row of table.rows) {
    digest.update(`${JSON.stringify(row.values)}\n`);
  }
  const images = new Set<string>();
  for (const row of table.rows) {
    const cell = columns.image === undefined ? undefined : row.values[columns.image];
    if (typeof cell === 'string' && cell.trim() !== '') images.add(cell.trim());
  }
  for (const image of [...images].sort()) {
    const full = isAbsolute(image) ? image : join(dir, image);
    digest.update(`${image}\u0000${await fileDigest(full)}\n`);
  }
  return digest.digest('hex');
}

/** A missing or unreadable file digests as such: it is dropped when read, and keyed so. */
async function fileDigest(path: string): Promise<string> {
  try {
    if (!(await stat(path)).isFile()) return 'not-a-file';
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return 'missing';
  }
}

function showPath(path: string, baseDir: string): string {
  const inside = relative(resolve(baseDir), path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}
