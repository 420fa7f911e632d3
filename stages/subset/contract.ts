import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';
import type { DataSourceSpec } from '../sources/data-source.ts';

export interface SubsetParams {
  seed: number;
  /** source and test_fraction only feed the preflight estimate. */
  data: { train_size: number | 'all'; source?: DataSourceSpec; test_fraction: number };
}

export const SUBSET_OUTPUT = { train: 'train.jsonl', stats: 'stats.json' } as const;

/** `split`: split's output, whose train file is narrowed. */
export const subsetContract = defineStageContract<SubsetParams>()({
  inputs: ['split'],
  outputs: SUBSET_OUTPUT,
});

export type SubsetContext = ContextOf<typeof subsetContract>;
