import { extname } from 'node:path';
import { readRegularFile } from '../../runner/regular-file.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import { parseCsv } from './csv-table.ts';
import type { UnusableSource } from './data-source.ts';
import type { TableRow } from './table-records.ts';

/** A manifest is a list of paths and short texts; one this large is not a manifest. */
export const MAX_TABLE_FILE_BYTES = 256 * 1024 * 1024;

export interface TableFile {
  /** Every column any row has, in first-seen order. */
  columns: string[];
  rows: TableRow[];
}

/**
 * Reads a JSONL or CSV table (a manifest, an imagefolder's metadata), chosen by its extension.
 * A file that cannot be read as such is unusable as a whole, and the message says which line:
 * `setting` names the spec setting that points at it.
 */
export async function readTableFile(
  path: string,
  shown: string,
  setting: string,
): Promise<Result<TableFile, UnusableSource>> {
  const unusable = (message: string) =>
    fail<UnusableSource>({ reason: 'unusable-source', message: `${shown}: ${message}`, setting });
  const format = extname(path).toLowerCase();
  if (format !== '.jsonl' && format !== '.csv') {
    return unusable('a table source is read from a .jsonl or .csv file');
  }
  const text = await readRegularFile(path, MAX_TABLE_FILE_BYTES);
  if (!text.ok) return unusable(text.error.message);
  if (format === '.csv') {
    const table = parseCsv(text.value);
    if (!table.ok) {
      return fail({
        reason: 'unusable-source',
        message: `${shown}:${table.error.line}: ${table.error.message}`,
        setting,
      });
    }
    const { header, rows } = table.value;
    return ok({
      columns: header,
      rows: rows.map(({ line, cells }) => ({
        row: line,
        values: Object.fromEntries(header.map((name, i) => [name, cells[i]])),
      })),
    });
  }
  const columns = new Set<string>();
  const rows: TableRow[] = [];
  const lines = text.value.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return fail({
        reason: 'unusable-source',
        message: `${shown}:${index + 1}: the line is not JSON`,
        setting,
      });
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return fail({
        reason: 'unusable-source',
        message: `${shown}:${index + 1}: the line is not a JSON object of columns`,
        setting,
      });
    }
    for (const name of Object.keys(value)) columns.add(name);
    rows.push({ row: index + 1, values: value as Record<string, unknown> });
  }
  return ok({ columns: [...columns], rows });
}
