import { ok } from '../../runner/result.ts';
import { DEFAULT_COLUMNS } from './column-mapping.ts';
import type { DataSource } from './data-source.ts';
import { fileTableSource } from './file-table-source.ts';
import type { ManifestSource } from './table-source-spec.ts';

/** A JSONL or CSV manifest: one record a line or row, image paths relative to the file. */
export const dataSource: DataSource<ManifestSource> = fileTableSource<ManifestSource>({
  name: 'manifest',
  locate: async (source) => ok({ path: source.path, setting: 'data.source.path' }),
  imageDefault: DEFAULT_COLUMNS.image ?? 'image',
});
