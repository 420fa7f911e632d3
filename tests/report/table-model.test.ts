import { describe, expect, it } from 'vitest';
import { niceTicks } from '../../stages/report/metric-plots.ts';
import type { VariantResult } from '../../stages/report/sweep-results.ts';
import { buildTable1 } from '../../stages/report/table-1.ts';

function result(variant: string, fields: Partial<VariantResult>): VariantResult {
  return {
    variant,
    axes: {},
    baseline: false,
    state: { state: 'evaluated' },
    metrics: {},
    scoring: {},
    ...fields,
  };
}

const scores = (accuracy: number) => ({
  'eval/accuracy': accuracy,
  'eval/bleu': 0.1,
  'eval/rouge1': 0.4,
  'eval/rougeL': 0.3,
  'eval/bertscore_f1': 0.9,
});

describe('Table 1 model', () => {
  it('marks every row that ties for best at the shown precision', () => {
    const table = buildTable1('t', [
      result('a', { supervision: 'qa', trainSize: 5, metrics: scores(0.61961) }),
      result('b', { supervision: 'qa', trainSize: 9, metrics: scores(0.61959) }),
      result('c', { supervision: 'qa', trainSize: 12, metrics: scores(0.6194) }),
    ]);
    expect(table.rows.map((r) => r.best.accuracy)).toEqual([true, true, false]);
    expect(table.rows.map((r) => r.best.bleu)).toEqual([true, true, true]);
  });

  it('names rows as the paper does, and by variant when another swept setting would make names clash', () => {
    const table = buildTable1('t', [
      result('qa-all-r8', {
        supervision: 'qa',
        trainSize: 'all',
        trainImages: 2286,
        axes: { 'train.lora.rank': 8 },
      }),
      result('qa-all-r16', {
        supervision: 'qa',
        trainSize: 'all',
        trainImages: 2286,
        axes: { 'train.lora.rank': 16 },
      }),
      result('caption-all', {
        supervision: 'caption',
        trainSize: 'all',
        state: { state: 'not-evaluated' },
      }),
      result('qa_caption-500', { supervision: 'qa_caption', trainSize: 500 }),
      result('untuned', { supervision: 'qa', trainSize: 'all', baseline: true }),
    ]);
    expect(table.rows.map((r) => r.label)).toEqual([
      'QApairs-2286 (qa-all-r8)',
      'QApairs-2286 (qa-all-r16)',
      'Caption-all',
      'QaCaption-500',
      'untuned',
    ]);
  });

  it('sets scaled-down sizes beside the published ones in order, "all" beside 2,286', () => {
    const table = buildTable1(
      't',
      [
        result('qa-6', { supervision: 'qa', trainSize: 6 }),
        result('qa-12', { supervision: 'qa', trainSize: 12 }),
        result('qa-all', { supervision: 'qa', trainSize: 'all' }),
        result('caption-1000', { supervision: 'caption', trainSize: 1000 }),
        result('base', { baseline: true }),
      ],
      { comparePaper: true },
    );
    expect(table.rows.map((r) => r.paper?.label)).toEqual([
      'QApairs-500',
      'QApairs-1000',
      'QApairs-2286',
      'Caption-1000',
      'SmolVLM-Instruct',
    ]);
    expect(table.paper?.unmatched.map((p) => p.label)).toEqual([
      'Caption-500',
      'Caption-2286',
      'QaCaption-500',
      'QaCaption-1000',
      'QaCaption-2286',
    ]);
  });

  it('explains a missing metric of an evaluated variant', () => {
    const { 'eval/accuracy': _dropped, ...rest } = scores(0.5);
    const table = buildTable1('t', [
      result('qa-5', { supervision: 'qa', trainSize: 5, metrics: rest }),
    ]);
    expect(table.rows[0]?.values.accuracy).toBeUndefined();
    expect(table.notes).toEqual(['QApairs-5: its evaluation has no Accuracy (eval/accuracy)']);
  });
});

describe('plot ticks', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(61.2, 71.3, 5)).toEqual([60, 65, 70, 75]);
    expect(niceTicks(3.2, 11.4, 5)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(niceTicks(0.5, 0.5, 5)).toEqual([-0.5, 0, 0.5, 1, 1.5]);
    expect(niceTicks(87.1, 90.2, 5)).toEqual([87, 88, 89, 90, 91]);
  });
});
