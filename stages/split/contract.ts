import { type ContextOf, defineStageContract } from '../../runner/stage-kind.ts';

export interface SplitParams {
  seed: number;
  data: { test_fraction: number };
}

export const SPLIT_OUTPUT = {
  train: 'train.jsonl',
  test: 'test.jsonl',
  stats: 'stats.json',
} as const;

/** `qa`: clean-qa's output. */
export const splitContract = defineStageContract<SplitParams>()({
  inputs: ['qa'],
  outputs: SPLIT_OUTPUT,
});

export type SplitContext = ContextOf<typeof splitContract>;
