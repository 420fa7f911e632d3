import { seededRandom } from '../shared/seeded-random.ts';
import {
  CONFIDENCE_LEVEL,
  columnSums,
  type Interval,
  nextBits,
  percentileInterval,
  type QuestionRows,
  resampledScores,
} from './bootstrap.ts';

/**
 * Paired tests of two systems scored on the same questions (row i of both is question i):
 * the paired bootstrap interval of the difference, approximate randomisation for any additive
 * metric (corpus BLEU included), McNemar's exact test for correct/incorrect answers, and
 * Holm's step-down correction over a family of comparisons.
 */

/** sacreBLEU's default number of approximate-randomisation trials. */
export const RANDOMISATION_TRIALS = 10_000;

/** The level the table's marks test at, after Holm's correction. */
export const SIGNIFICANCE_LEVEL = 0.05;

export type PairedTest = 'approximate-randomisation' | 'mcnemar-exact';

/** `a` minus `b` on every bootstrap resample (the same question draws for both). */
export function pairedBootstrapDifferences(
  a: QuestionRows,
  b: QuestionRows,
  indices: Uint32Array,
): Float64Array {
  assertPaired(a, b);
  const scoresA = resampledScores(a, indices);
  const scoresB = resampledScores(b, indices);
  const diffs = new Float64Array(scoresA.length);
  for (let r = 0; r < diffs.length; r++) diffs[r] = (scoresA[r] as number) - (scoresB[r] as number);
  return diffs;
}

/** The paired 95% interval of `a - b`: percentiles of the paired bootstrap differences. */
export function pairedInterval(
  a: QuestionRows,
  b: QuestionRows,
  indices: Uint32Array,
  level = CONFIDENCE_LEVEL,
): Interval {
  return percentileInterval(pairedBootstrapDifferences(a, b, indices), level);
}

/**
 * Two-sided approximate randomisation (Noreen 1989; sacreBLEU's `--paired-ar`): under the
 * null the two systems' outputs for a question are exchangeable, so each trial swaps them
 * per question with probability 1/2 and recomputes the metric difference. p is the share of
 * trials at least as extreme as the observed difference, with the +1 that keeps the test's
 * level at or under its nominal value. A system against itself gets p = 1.
 */
export function approximateRandomisation(
  a: QuestionRows,
  b: QuestionRows,
  options: { trials?: number; seed: number | string },
): number {
  assertPaired(a, b);
  const trials = options.trials ?? RANDOMISATION_TRIALS;
  const { n, metric } = a;
  const width = metric.width;
  const sumA = columnSums(a);
  const sumB = columnSums(b);
  const observed = Math.abs(metric.score(sumA, n) - metric.score(sumB, n));
  // What swapping a set of questions moves from a's sums to b's, tabulated per block of 8
  // questions for all 256 subsets: a trial then costs one lookup per 8 questions, not 8 adds.
  // Bit k of the trial's random words decides question k, as a plain loop would.
  const blocks = Math.ceil(n / 8);
  const table = new Float64Array(blocks * 256 * width);
  for (let block = 0; block < blocks; block++) {
    const base = block * 256 * width;
    for (let mask = 1; mask < 256; mask++) {
      const low = mask & -mask;
      const question = block * 8 + Math.log2(low);
      const from = base + (mask ^ low) * width;
      const to = base + mask * width;
      for (let j = 0; j < width; j++) {
        const d =
          question < n
            ? (b.rows[question * width + j] as number) - (a.rows[question * width + j] as number)
            : 0;
        table[to + j] = (table[from + j] as number) + d;
      }
    }
  }
  const random = seededRandom(options.seed, 'approximate-randomisation');
  const shiftedA = new Float64Array(width);
  const shiftedB = new Float64Array(width);
  const moved = new Float64Array(width);
  // Floating-point sums of the same terms in another order differ in the last bits.
  const tolerance = 1e-12 * Math.max(1, observed);
  let atLeast = 0;
  for (let t = 0; t < trials; t++) {
    moved.fill(0);
    let bits = 0;
    for (let block = 0; block < blocks; block++) {
      if (block % 4 === 0) bits = nextBits(random);
      const at = (block * 256 + (bits & 255)) * width;
      for (let j = 0; j < width; j++) moved[j] = (moved[j] as number) + (table[at + j] as number);
      bits >>>= 8;
    }
    for (let j = 0; j < width; j++) {
      shiftedA[j] = (sumA[j] as number) + (moved[j] as number);
      shiftedB[j] = (sumB[j] as number) - (moved[j] as number);
    }
    const diff = Math.abs(metric.score(shiftedA, n) - metric.score(shiftedB, n));
    if (diff >= observed - tolerance) atLeast++;
  }
  return (atLeast + 1) / (trials + 1);
}

/**
 * sacreBLEU's paired bootstrap p-value (`--paired-bs`, after Moses'
 * bootstrap-hypothesis-difference-significance.pl): the resampled absolute differences are
 * centred on their mean, and p is the share above the observed absolute difference, +1.
 * Kept for parity with sacreBLEU; the table uses approximate randomisation, whose level the
 * simulation test checks.
 */
export function pairedBootstrapPValue(diffs: Float64Array, observed: number): number {
  let meanAbs = 0;
  for (const d of diffs) meanAbs += Math.abs(d);
  meanAbs /= diffs.length;
  const target = Math.abs(observed);
  let above = 0;
  for (const d of diffs) if (Math.abs(d) - meanAbs > target) above++;
  return (above + 1) / (diffs.length + 1);
}

export interface McNemarResult {
  /** Questions only `a` answered correctly, and only `b`. */
  onlyA: number;
  onlyB: number;
  pValue: number;
}

/**
 * McNemar's exact test: of the questions exactly one system got right, under the null each is
 * a fair coin, so the count `a` wins is Binomial(discordant, 1/2); p is two-sided (twice the
 * smaller tail, at most 1). Questions both got right or both got wrong say nothing.
 */
export function mcnemarExact(
  correctA: ArrayLike<number | boolean>,
  correctB: ArrayLike<number | boolean>,
): McNemarResult {
  if (correctA.length !== correctB.length) {
    throw new Error(`mcnemar: ${correctA.length} and ${correctB.length} answers`);
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < correctA.length; i++) {
    const a = Boolean(correctA[i]);
    const b = Boolean(correctB[i]);
    if (a && !b) onlyA++;
    else if (b && !a) onlyB++;
  }
  const discordant = onlyA + onlyB;
  if (discordant === 0) return { onlyA, onlyB, pValue: 1 };
  const smaller = Math.min(onlyA, onlyB);
  // The binomial pmf in log space: 2^-m underflows past m = 1074.
  let logPmf = -discordant * Math.LN2;
  let tail = 0;
  for (let k = 0; k <= smaller; k++) {
    tail += Math.exp(logPmf);
    logPmf += Math.log((discordant - k) / (k + 1));
  }
  return { onlyA, onlyB, pValue: Math.min(1, 2 * tail) };
}

/**
 * Holm's step-down adjusted p-values (same order as given): the i-th smallest is multiplied
 * by (m - i + 1), made monotone, capped at 1. Rejecting where the adjusted p <= alpha keeps
 * the family-wise error rate at or under alpha for any dependence between the tests.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m).fill(1);
  let running = 0;
  for (const [rank, { p, i }] of order.entries()) {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  }
  return adjusted;
}

function assertPaired(a: QuestionRows, b: QuestionRows): void {
  if (a.n !== b.n || a.metric.width !== b.metric.width) {
    throw new Error(
      `paired test: ${a.n} and ${b.n} questions (widths ${a.metric.width}, ${b.metric.width})`,
    );
  }
}
