import { DEFAULT_LABEL_FILTER } from '../biomedica/label-filter.ts';
import type { SourceSettings } from '../sources/data-source.ts';
import type { CurateParams } from './contract.ts';

/** The spec's data settings as the seam takes them; the label filter is BIOMEDICA's to apply. */
export function sourceSettings(params: CurateParams): SourceSettings {
  const { source, filter, columns } = params.data;
  return {
    source,
    filter: { ...DEFAULT_LABEL_FILTER, ...filter },
    ...(columns ? { columns } : {}),
  };
}
