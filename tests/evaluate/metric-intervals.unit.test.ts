import { describe, expect, it } from 'vitest';
import { bleuStatisticsWidth, computeBleu } from '../../stages/evaluate/bleu.ts';
import { fullScore } from '../../stages/evaluate/bootstrap.ts';
import { truncateToReference } from '../../stages/evaluate/length-controlled.ts';
import { questionRows } from '../../stages/evaluate/metric-intervals.ts';
import { computeRouge } from '../../stages/evaluate/rouge.ts';
import { scoreMetrics, scorePredictions } from '../../stages/evaluate/score-predictions.ts';
import { toyEmbed } from './toy-embed.ts';

const OPTIONS = ['impetigo', 'cellulitis', 'psoriasis', 'tinea corporis'];
const ANSWERS = [
  ['Honey-crusted plaques typical of impetigo.', 'The crusted plaques are typical of impetigo.'],
  [
    'A warm spreading cellulitis of the lower leg.',
    'Spreading erythema and warmth suggest cellulitis.',
  ],
  ['Probably psoriasis.', 'Tinea corporis, a fungal infection.'],
  [
    'Impetigo, impetigo, impetigo with honey crusts and many more words than the reference has.',
    'Impetigo with honey crusts.',
  ],
  ['Erythema with warmth and swelling.', 'Cellulitis: erythema, warmth and swelling.'],
] as const;
const LINES = Array.from({ length: 40 }, (_, i) => {
  const [prediction, reference] = ANSWERS[i % ANSWERS.length] as readonly [string, string];
  return {
    id: `q${i}`,
    prediction,
    reference,
    options: OPTIONS,
    answer_index: i % 4,
    kind: 'general',
  };
});

describe('intervals and the length-controlled view', () => {
  it('keeps per-line BLEU statistics whose sums give the corpus BLEU', async () => {
    const report = await scorePredictions(LINES, { seed: 1 });
    const width = bleuStatisticsWidth();
    expect(report.examples.every((e) => e.bleu_stats.length === width)).toBe(true);
    const expected = computeBleu(
      LINES.map((l) => l.prediction),
      LINES.map((l) => l.reference),
    );
    expect(report.bleu).toEqual(expected);
  });

  it('brackets every metric with a seeded 95% bootstrap interval', async () => {
    const report = await scorePredictions(LINES, { seed: 1, embed: toyEmbed, encoderName: 'toy' });
    const again = await scorePredictions(LINES, { seed: 1, embed: toyEmbed, encoderName: 'toy' });
    const other = await scorePredictions(LINES, { seed: 2, embed: toyEmbed, encoderName: 'toy' });
    const { intervals } = report.intervals;
    expect(report.intervals).toMatchObject({ resamples: 1000, seed: 1, level: 0.95 });
    expect(Object.keys(intervals).sort()).toEqual(['accuracy', 'bleu', 'rouge1', 'rougeL']);
    const point = {
      bleu: report.bleu.bleu,
      rouge1: report.rouge.rouge1,
      rougeL: report.rouge.rougeL,
      accuracy: report.accuracy?.overall.accuracy ?? Number.NaN,
    };
    for (const [metric, value] of Object.entries(point)) {
      const interval = intervals[metric as keyof typeof point];
      expect(interval?.low).toBeLessThan(value);
      expect(interval?.high).toBeGreaterThan(value);
    }
    expect(again.intervals).toEqual(report.intervals);
    expect(other.intervals.intervals.bleu).not.toEqual(intervals.bleu);
    const metrics = scoreMetrics(report);
    expect(metrics.bleu_ci_low).toBe(intervals.bleu?.low);
    expect(metrics.rougeL_ci_high).toBe(intervals.rougeL?.high);
    // The Wilson interval keeps its names; the bootstrap one is named apart.
    expect(metrics.accuracy_ci_low).toBe(report.accuracy?.overall.low);
    expect(metrics.accuracy_bootstrap_ci_low).toBe(intervals.accuracy?.low);
  });

  it('scores answers cut to the reference length', async () => {
    const report = await scorePredictions(LINES, { seed: 1 });
    const cut = LINES.map((l) => truncateToReference(l.prediction, l.reference));
    expect(cut[3]).toBe('Impetigo, impetigo, impetigo with');
    expect(cut[0]).toBe(LINES[0]?.prediction);
    const rouge = computeRouge(
      cut,
      LINES.map((l) => l.reference),
    );
    expect(report.length_controlled).toMatchObject({
      truncated_share: 0.4,
      rouge1: rouge.mean.rouge1,
      bleu: computeBleu(
        cut,
        LINES.map((l) => l.reference),
      ).bleu,
    });
    expect(scoreMetrics(report).lc_rougeL).toBe(rouge.mean.rougeL);
  });

  it('leaves out a metric that some line lacks', () => {
    const rows = questionRows([
      { id: 'a', rouge1: 0.5, rougeL: 0.4, bertscore_f1: 0.9, bleu_stats: [] },
      { id: 'b', rouge1: 0.2, rougeL: 0.1, bleu_stats: [] },
    ]);
    expect(Object.keys(rows).sort()).toEqual(['rouge1', 'rougeL']);
  });
});

describe('accuracy over the questions with options', () => {
  it('resamples every question but counts only those that had options', async () => {
    const lines = LINES.map((l, i) =>
      i % 5 === 0 ? { ...l, options: undefined, answer_index: undefined } : l,
    );
    const report = await scorePredictions(lines, { seed: 1, embed: toyEmbed, encoderName: 'toy' });
    const interval = report.intervals.intervals.accuracy;
    expect(report.accuracy?.overall.n).toBe(32);
    expect(interval?.low).toBeLessThanOrEqual(report.accuracy?.overall.accuracy ?? -1);
    expect(interval?.high).toBeGreaterThanOrEqual(report.accuracy?.overall.accuracy ?? 2);
    const rows = questionRows(report.examples).accuracy;
    expect(rows?.n).toBe(40);
    expect(rows && fullScore(rows)).toBe(report.accuracy?.overall.accuracy);
  });
});
