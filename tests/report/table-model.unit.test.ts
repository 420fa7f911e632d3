import { describe, expect, it } from 'vitest';
import { metricPlots, niceTicks, renderPlotSvg } from '../../stages/report/metric-plots.ts';
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

  it('says why a column is 0 in every row, and only for such a column', () => {
    const zeroBleu = (rougeL: number) => ({
      ...scores(0.5),
      'eval/bleu': 0,
      'eval/rougeL': rougeL,
    });
    const table = buildTable1('t', [
      result('qa-5', { supervision: 'qa', trainSize: 5, metrics: zeroBleu(0.2) }),
      result('untuned', { baseline: true, metrics: zeroBleu(0) }),
      result('qa-9', { supervision: 'qa', trainSize: 9, state: { state: 'not-evaluated' } }),
    ]);
    const zeroNotes = table.notes.filter((n) => n.includes('is 0 in every row'));
    expect(zeroNotes).toHaveLength(1);
    expect(zeroNotes[0]).toMatch(/^BLEU is 0 in every row: corpus BLEU multiplies .*4-grams/);
  });
});

describe('plots', () => {
  it('never puts a percentage axis below 0, even for a row of zeros', () => {
    const table = buildTable1('t', [
      result('qa-5', {
        supervision: 'qa',
        trainSize: 5,
        metrics: { ...scores(0.01), 'eval/bleu': 0 },
      }),
      result('qa-9', {
        supervision: 'qa',
        trainSize: 9,
        metrics: { ...scores(0.03), 'eval/bleu': 0 },
      }),
      result('untuned', { baseline: true, metrics: { ...scores(0), 'eval/bleu': 0 } }),
    ]);
    for (const plot of metricPlots(table)) {
      const svg = renderPlotSvg(plot);
      // The y tick labels are the end-anchored texts left of the axis.
      const ticks = [...svg.matchAll(/text-anchor="end" fill="#444">(-?[\d.]+)</g)].map((m) =>
        Number(m[1]),
      );
      expect(ticks.length, plot.id).toBeGreaterThan(1);
      expect(Math.min(...ticks), plot.id).toBeGreaterThanOrEqual(0);
      // Accuracy (0 to 3 %) and BLEU (all 0) would have had their padding reach below 0.
      if (plot.metric === 'accuracy' || plot.metric === 'bleu') expect(ticks[0], plot.id).toBe(0);
    }
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
