import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { ok, type Result } from '../../runner/result.ts';
import { MAX_ENTRY_BYTES } from '../biomedica/shard-reader.ts';
import type { ResolvedColumns } from './column-mapping.ts';
import type { DataSourceFailure } from './data-source.ts';
import type { SourceItem } from './source-record.ts';

/** One row of a table source: its 1-based number in the file and its columns' values. */
export interface TableRow {
  row: number;
  values: Record<string, unknown>;
}

/**
 * The rows of one file of a table source (a manifest, an image folder's metadata, a Parquet
 * file) as the seam's items. Images come as bytes (a binary column, or the hub's `{bytes,
 * path}` image struct) or as paths relative to the file's folder `dir`; a row whose image file
 * is missing or unreadable is dropped and counted, not the whole source.
 */
export async function* tableItems(
  rows: AsyncIterable<Result<TableRow, DataSourceFailure>>,
  file: string,
  dir: string,
  columns: ResolvedColumns,
): AsyncGenerator<Result<SourceItem, DataSourceFailure>> {
  for await (const item of rows) {
    if (!item.ok) {
      yield item;
      return;
    }
    yield ok(await rowItem(item.value, file, dir, columns));
  }
}

async function rowItem(
  { row, values }: TableRow,
  file: string,
  dir: string,
  columns: ResolvedColumns,
): Promise<SourceItem> {
  const read = (role: keyof ResolvedColumns) => {
    const column = columns[role];
    return column === undefined ? undefined : text(values[column]);
  };
  const origin = `${file}:${row}`;
  const cell = columns.image === undefined ? undefined : values[columns.image];
  const path = imagePath(cell);
  const id = read('id') ?? (path ? path.replace(/\.[^./]*$/, '') : `row-${row}`);
  const image = path === undefined ? imageBytes(cell) : await imageFile(dir, path);
  if (image && 'problem' in image) {
    return { kind: 'drop', id, origin, reason: image.reason, detail: image.problem };
  }
  const context = read('context');
  const label = read('label');
  const question = read('question');
  const answer = read('answer');
  return {
    kind: 'record',
    record: {
      id,
      origin,
      ...(image ? { image } : {}),
      caption: columns.caption === undefined ? null : read('caption'),
      // No group column: each record is its own group, so the split still never parts a record.
      ...(columns.group === undefined ? { group: id } : groupOf(read('group'))),
      fields: {
        mentions: context ? [context] : [],
        image_size: null,
        license: null,
        title: null,
        citation: null,
        journal: null,
        figure_id: null,
        primary_labels: [],
        secondary_labels: [],
        ...(label !== undefined ? { label } : {}),
        ...(question !== undefined ? { question } : {}),
        ...(answer !== undefined ? { answer } : {}),
      },
    },
  };
}

function groupOf(value: string | undefined): { group?: string } {
  return value === undefined ? {} : { group: value };
}

/** A cell as text: strings trimmed, numbers written out; blank and anything else is absent. */
function text(value: unknown): string | undefined {
  const written =
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'number' || typeof value === 'bigint'
        ? String(value)
        : undefined;
  return written === '' ? undefined : written;
}

/** The path an image cell names: a string, or the hub image struct's `path` when it has no bytes. */
function imagePath(cell: unknown): string | undefined {
  if (typeof cell === 'string') return cell.trim() === '' ? undefined : cell.trim();
  if (cell && typeof cell === 'object' && !(cell instanceof Uint8Array)) {
    const struct = cell as { bytes?: unknown; path?: unknown };
    if (!(struct.bytes instanceof Uint8Array) && typeof struct.path === 'string' && struct.path)
      return struct.path;
  }
  return undefined;
}

type ImageCell =
  | { extension: string; bytes: Buffer }
  | { reason: 'missing-image' | 'entry-too-large' | 'not-an-image'; problem: string };

function imageBytes(cell: unknown): ImageCell | undefined {
  const bytes =
    cell instanceof Uint8Array
      ? cell
      : cell &&
          typeof cell === 'object' &&
          (cell as { bytes?: unknown }).bytes instanceof Uint8Array
        ? (cell as { bytes: Uint8Array }).bytes
        : undefined;
  if (!bytes || bytes.length === 0) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { extension: sniffExtension(buffer), bytes: buffer };
}

async function imageFile(dir: string, path: string): Promise<ImageCell> {
  const full = isAbsolute(path) ? path : join(dir, path);
  try {
    const info = await stat(full);
    // A FIFO or a device would block or never end: only regular files are read.
    if (!info.isFile()) return { reason: 'not-an-image', problem: `${path} is not a regular file` };
    if (info.size > MAX_ENTRY_BYTES)
      return { reason: 'entry-too-large', problem: `${path} is ${info.size} bytes` };
    const bytes = await readFile(full);
    const named = extname(path).slice(1).toLowerCase();
    return { extension: named === '' ? sniffExtension(bytes) : named, bytes };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      reason: 'missing-image',
      problem: code === 'ENOENT' ? `no file ${path}` : `${path} cannot be read (${code})`,
    };
  }
}

/** The image type by its first bytes; curate's image check then decodes it for real. */
function sniffExtension(bytes: Buffer): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpg';
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP')
    return 'webp';
  return 'bin';
}
