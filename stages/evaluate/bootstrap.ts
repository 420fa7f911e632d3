import { type SeededRandom, seededRandom } from '../shared/seeded-random.ts';

/**
 * Bootstrap over test questions. Every metric Table 1 reports is a function of per-question
 * numbers that add up: a mean of per-question scores (ROUGE, BERTScore F1, correctness) is
 * one number per question, corpus BLEU is its clipped n-gram counts and lengths. Resampling
 * questions is then summing the chosen rows, and corpus BLEU is recomputed from the summed
 * counts on each resample (not averaged from sentence scores). Per-example BERTScore values
 * are the rows: encoded once by the evaluate stage, never again here.
 */
export interface AdditiveMetric {
  /** Numbers per question. */
  width: number;
  /** The metric from the column sums over the chosen questions and how many were chosen. */
  score(sums: Float64Array, count: number): number;
}

/** One metric's per-question rows, `rows[i * width + j]`; question order is shared when paired. */
export interface QuestionRows {
  metric: AdditiveMetric;
  n: number;
  rows: Float64Array;
}

/** The floor; also sacreBLEU's `--paired-bs` default. */
export const BOOTSTRAP_RESAMPLES = 1000;
export const CONFIDENCE_LEVEL = 0.95;

/** The mean of one number per question. */
export const MEAN_METRIC: AdditiveMetric = {
  width: 1,
  score: (sums, count) => (count === 0 ? 0 : (sums[0] as number) / count),
};

/**
 * A share over the questions that count: rows are [hits, counts] (1 or 0 each), so questions
 * that do not count (no options to match against) stay in the resample and pair up across
 * systems, and the accuracy is computed as the evaluate stage does, over the counted ones.
 */
export const RATIO_METRIC: AdditiveMetric = {
  width: 2,
  score: (sums) => ((sums[1] as number) === 0 ? 0 : (sums[0] as number) / (sums[1] as number)),
};

export function meanRows(values: readonly number[]): QuestionRows {
  return { metric: MEAN_METRIC, n: values.length, rows: Float64Array.from(values) };
}

export interface Interval {
  low: number;
  high: number;
}

/**
 * `resamples` draws of n question indices with replacement, flat (`resamples * n`). The same
 * seed gives the same draws, so every variant of a table is resampled on the same questions:
 * that is what makes the differences paired.
 */
export function resampleIndices(n: number, resamples: number, seed: number | string): Uint32Array {
  const random = seededRandom(seed, 'bootstrap-questions');
  const indices = new Uint32Array(n * resamples);
  for (let k = 0; k < indices.length; k++) indices[k] = random.below(n);
  return indices;
}

/** The metric on each resample (`indices` from `resampleIndices` for the same n). */
export function resampledScores(data: QuestionRows, indices: Uint32Array): Float64Array {
  const { metric, n, rows } = data;
  const width = metric.width;
  const resamples = n === 0 ? 0 : indices.length / n;
  const scores = new Float64Array(resamples);
  const sums = new Float64Array(width);
  for (let r = 0; r < resamples; r++) {
    sums.fill(0);
    const base = r * n;
    if (width === 1) {
      let s = 0;
      for (let k = 0; k < n; k++) s += rows[indices[base + k] as number] as number;
      sums[0] = s;
    } else {
      for (let k = 0; k < n; k++) {
        const row = (indices[base + k] as number) * width;
        for (let j = 0; j < width; j++) sums[j] = (sums[j] as number) + (rows[row + j] as number);
      }
    }
    scores[r] = metric.score(sums, n);
  }
  return scores;
}

/** The metric on all questions. */
export function fullScore(data: QuestionRows): number {
  return data.metric.score(columnSums(data), data.n);
}

/** Each column summed over every question. */
export function columnSums(data: QuestionRows): Float64Array {
  const width = data.metric.width;
  const sums = new Float64Array(width);
  for (let i = 0; i < data.n; i++) {
    for (let j = 0; j < width; j++) {
      sums[j] = (sums[j] as number) + (data.rows[i * width + j] as number);
    }
  }
  return sums;
}

/**
 * The percentile interval: the 2.5% and 97.5% quantiles of the resampled values (numpy's
 * default linear interpolation). For means and corpus BLEU on hundreds of questions it
 * covers as advertised (tests/evaluate/statistics-simulation.test.ts measures it).
 */
export function percentileInterval(values: Float64Array, level = CONFIDENCE_LEVEL): Interval {
  if (values.length === 0) return { low: Number.NaN, high: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const tail = (1 - level) / 2;
  return { low: quantileSorted(sorted, tail), high: quantileSorted(sorted, 1 - tail) };
}

export function bootstrapInterval(
  data: QuestionRows,
  indices: Uint32Array,
  level = CONFIDENCE_LEVEL,
): Interval {
  return percentileInterval(resampledScores(data, indices), level);
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

/** 32 random bits from the shared PRNG (its `next()` is a uint32 divided by 2^32, exactly). */
export function nextBits(random: SeededRandom): number {
  return (random.next() * 4294967296) >>> 0;
}
