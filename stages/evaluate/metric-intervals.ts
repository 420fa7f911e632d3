import { type BleuOptions, bleuMetric, bleuStatisticsWidth } from './bleu.ts';
import {
  BOOTSTRAP_RESAMPLES,
  bootstrapInterval,
  CONFIDENCE_LEVEL,
  type Interval,
  MEAN_METRIC,
  type QuestionRows,
  RATIO_METRIC,
  resampleIndices,
} from './bootstrap.ts';

/**
 * The metrics that get intervals and paired tests, and where each one's per-question numbers
 * are in a line of the evaluate stage's examples.jsonl. The stage, `dermatune score` and the
 * table's comparison all read them through here.
 */
export const INTERVAL_METRICS = ['accuracy', 'bleu', 'rouge1', 'rougeL', 'bertscore_f1'] as const;
export type IntervalMetric = (typeof INTERVAL_METRICS)[number];

/** The per-question fields of an examples.jsonl line that the statistics read. */
export interface ExampleStatistics {
  id: string;
  rouge1: number;
  rougeL: number;
  bertscore_f1?: number;
  correct?: boolean;
  /** `bleuStatistics` of the line (evaluate's BLEU: counts, possible n-grams, lengths). */
  bleu_stats?: readonly number[];
}

/**
 * Each metric's rows over the given examples, in their order; a metric that some example
 * lacks (no BERTScore, an evaluation from before version 2) is left out. The accuracy counts
 * the questions that had options (`correct` set), as the stage's accuracy does.
 */
export function questionRows(
  examples: readonly ExampleStatistics[],
  bleu: BleuOptions = {},
): Partial<Record<IntervalMetric, QuestionRows>> {
  const n = examples.length;
  const rows: Partial<Record<IntervalMetric, QuestionRows>> = {};
  const mean = (pick: (e: ExampleStatistics) => number | undefined) => {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = pick(examples[i] as ExampleStatistics);
      if (v === undefined || !Number.isFinite(v)) return undefined;
      values[i] = v;
    }
    return { metric: MEAN_METRIC, n, rows: values };
  };
  if (n === 0) return rows;
  if (examples.some((e) => e.correct !== undefined)) {
    const flat = new Float64Array(n * 2);
    examples.forEach((e, i) => {
      flat[2 * i] = e.correct ? 1 : 0;
      flat[2 * i + 1] = e.correct === undefined ? 0 : 1;
    });
    rows.accuracy = { metric: RATIO_METRIC, n, rows: flat };
  }
  const width = bleuStatisticsWidth();
  if (examples.every((e) => e.bleu_stats?.length === width)) {
    const flat = new Float64Array(n * width);
    examples.forEach((e, i) => {
      flat.set(e.bleu_stats as readonly number[], i * width);
    });
    rows.bleu = { metric: bleuMetric(bleu), n, rows: flat };
  }
  const rouge1 = mean((e) => e.rouge1);
  if (rouge1) rows.rouge1 = rouge1;
  const rougeL = mean((e) => e.rougeL);
  if (rougeL) rows.rougeL = rougeL;
  const bertscore = mean((e) => e.bertscore_f1);
  if (bertscore) rows.bertscore_f1 = bertscore;
  return rows;
}

export interface MetricIntervals {
  /** Percentile bootstrap over test questions. */
  method: 'percentile-bootstrap';
  resamples: number;
  seed: number;
  level: number;
  intervals: Partial<Record<IntervalMetric, Interval>>;
}

/** The 95% bootstrap interval of every metric the examples carry, seeded. */
export function metricIntervals(
  examples: readonly ExampleStatistics[],
  options: { seed: number; resamples?: number; bleu?: BleuOptions },
): MetricIntervals {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const rows = questionRows(examples, options.bleu);
  const indices = resampleIndices(examples.length, resamples, options.seed);
  const intervals: Partial<Record<IntervalMetric, Interval>> = {};
  for (const metric of INTERVAL_METRICS) {
    const data = rows[metric];
    if (data) intervals[metric] = bootstrapInterval(data, indices);
  }
  return {
    method: 'percentile-bootstrap',
    resamples,
    seed: options.seed,
    level: CONFIDENCE_LEVEL,
    intervals,
  };
}

/**
 * The tracked metric names of an interval's ends (`bleu_ci_low`); the accuracy's Wilson
 * interval already holds `accuracy_ci_*`, so its bootstrap ends are named apart.
 */
export function intervalMetricNames(metric: IntervalMetric): { low: string; high: string } {
  const base = metric === 'accuracy' ? 'accuracy_bootstrap' : metric;
  return { low: `${base}_ci_low`, high: `${base}_ci_high` };
}
