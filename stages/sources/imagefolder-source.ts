import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { DataSource, UnusableSource } from './data-source.ts';
import { fileTableSource, type TableLocation } from './file-table-source.ts';
import type { ImageFolderSource } from './table-source-spec.ts';

/**
 * The hub's imagefolder convention (the `datasets` library's ImageFolder builder): a folder of
 * images with a `metadata.jsonl` or `metadata.csv` whose `file_name` column names each image
 * relative to the folder. Only the folder's own metadata file is read; per-split subfolders,
 * which the convention also allows, are not looked for.
 */
export const IMAGEFOLDER_METADATA = ['metadata.jsonl', 'metadata.csv'] as const;
export const IMAGEFOLDER_IMAGE_COLUMN = 'file_name';

export const dataSource: DataSource<ImageFolderSource> = fileTableSource<ImageFolderSource>({
  name: 'image folder',
  locate: locateMetadata,
  imageDefault: IMAGEFOLDER_IMAGE_COLUMN,
});

async function locateMetadata(
  source: ImageFolderSource,
): Promise<Result<TableLocation, UnusableSource>> {
  const found: string[] = [];
  for (const name of IMAGEFOLDER_METADATA) {
    const path = join(source.path, name);
    if (
      await stat(path).then(
        (info) => info.isFile(),
        () => false,
      )
    )
      found.push(path);
  }
  const [only, other] = found;
  if (only && !other) return ok({ path: only, setting: 'data.source.path' });
  return fail({
    reason: 'unusable-source',
    message: only
      ? `${source.path} has both ${IMAGEFOLDER_METADATA.join(' and ')}; keep one`
      : `${source.path} has no ${IMAGEFOLDER_METADATA.join(' or ')} naming its images`,
    setting: 'data.source.path',
  });
}
