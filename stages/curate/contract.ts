import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import type { ColumnMapping } from '../sources/column-mapping.ts';
import type { DataSourceSpec } from '../sources/data-source.ts';

export interface CurateParams {
  data: {
    source: DataSourceSpec;
    /** BIOMEDICA's concept-label filter; the other sources ignore it. */
    filter: { primary_label: string; secondary_label: string };
    columns?: ColumnMapping;
    limit?: number;
  };
}

/** What curate writes: the kept figures, the dropped ones with reasons, and the images. */
export const CURATE_OUTPUT = {
  records: 'records.jsonl',
  dropped: 'dropped.jsonl',
  stats: 'stats.json',
  images: 'images',
} as const;

export const curateContract = defineStageContract<CurateParams>()({
  inputs: [],
  outputs: CURATE_OUTPUT,
});

export type CurateContext = ContextOf<typeof curateContract>;
