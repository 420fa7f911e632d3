import type { Result } from '../../runner/result.ts';
import { biomedicaItems, dataSource } from '../../stages/biomedica/biomedica-data-source.ts';
import type { BiomedicaSample } from '../../stages/biomedica/biomedica-sample.ts';
import type { LabelFilter } from '../../stages/biomedica/label-filter.ts';
import { type CurateOptions, curateRecords } from '../../stages/curate/curate.ts';
import type { DataSourceFailure } from '../../stages/sources/data-source.ts';

/** BIOMEDICA samples through the source's label filter into curate, as the curate stage runs them. */
export function curateSamples(
  samples: AsyncIterable<Result<BiomedicaSample, DataSourceFailure>>,
  outDir: string,
  options: Omit<CurateOptions, 'missingGroup'> & { filter: LabelFilter },
) {
  const { filter, ...rest } = options;
  return curateRecords(biomedicaItems(samples, filter), outDir, {
    ...rest,
    missingGroup: dataSource.missingGroup,
  });
}
