import { describe, expect, it } from 'vitest';
import { bleuMetric, bleuStatisticsWidth } from '../../stages/evaluate/bleu.ts';
import {
  bootstrapInterval,
  fullScore,
  meanRows,
  type QuestionRows,
  resampleIndices,
} from '../../stages/evaluate/bootstrap.ts';
import {
  approximateRandomisation,
  holmAdjust,
  mcnemarExact,
  pairedInterval,
} from '../../stages/evaluate/significance.ts';
import { type SeededRandom, seededRandom } from '../../stages/shared/seeded-random.ts';

/**
 * The statistics checked against known truths by simulation, every draw seeded. Tolerances:
 * with R repetitions a rate's Monte Carlo standard error is sqrt(p(1-p)/R) (1.1 points for
 * 95% at R = 400); the bands below are about three of those, widened on the low side for the
 * percentile bootstrap's known slight under-coverage at small n (about 94% for n = 150).
 */
const REPS = 400;
const COVERAGE_BAND = { low: 0.91, high: 0.985 };

function normal(random: SeededRandom): number {
  const u = 1 - random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A per-question score in [0, 1]: question difficulty plus system noise, like ROUGE. */
function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function rate(hits: number, reps: number): number {
  return hits / reps;
}

describe('bootstrap intervals cover the truth', () => {
  it('covers a mean score about 95% of the time', () => {
    const random = seededRandom(1, 'coverage-mean');
    const n = 150;
    const indices = resampleIndices(n, 1000, 'coverage-mean');
    // Scores Uniform(0, 0.6) squared: skewed like per-answer ROUGE; true mean 0.12.
    const truth = 0.36 / 3;
    let covered = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const values = Array.from({ length: n }, () => (0.6 * random.next()) ** 2);
      const interval = bootstrapInterval(meanRows(values), indices);
      if (interval.low <= truth && truth <= interval.high) covered++;
    }
    const coverage = rate(covered, REPS);
    expect(coverage).toBeGreaterThanOrEqual(COVERAGE_BAND.low);
    expect(coverage).toBeLessThanOrEqual(COVERAGE_BAND.high);
  });

  it('covers corpus BLEU of the population about 95% of the time, recomputed per resample', () => {
    const random = seededRandom(2, 'coverage-bleu');
    const width = bleuStatisticsWidth();
    const metric = bleuMetric();
    // A population of questions with BLEU statistics; the truth is corpus BLEU on all of it.
    const population = 4_000;
    const rows = new Float64Array(population * width);
    for (let i = 0; i < population; i++) {
      const length = 5 + random.below(30);
      const reference = Math.max(1, Math.round(length * (0.6 + 0.8 * random.next())));
      const quality = random.next() ** 2;
      for (let o = 0; o < 4; o++) {
        const possible = Math.max(length - o, 0);
        let matches = 0;
        for (let k = 0; k < possible; k++) if (random.next() < quality * 0.8 ** o) matches++;
        rows[i * width + o] = matches;
        rows[i * width + 4 + o] = possible;
      }
      rows[i * width + 8] = length;
      rows[i * width + 9] = reference;
    }
    const truth = fullScore({ metric, n: population, rows });
    const n = 200;
    const indices = resampleIndices(n, 1000, 'coverage-bleu');
    const reps = 200;
    let covered = 0;
    for (let rep = 0; rep < reps; rep++) {
      const sample = new Float64Array(n * width);
      for (let i = 0; i < n; i++) {
        const from = random.below(population) * width;
        sample.set(rows.subarray(from, from + width), i * width);
      }
      const interval = bootstrapInterval({ metric, n, rows: sample }, indices);
      if (interval.low <= truth && truth <= interval.high) covered++;
    }
    // 200 repetitions: standard error 1.5 points, so a wider band.
    const coverage = rate(covered, reps);
    expect(coverage).toBeGreaterThanOrEqual(0.89);
    expect(coverage).toBeLessThanOrEqual(0.99);
  });

  it('covers a known paired difference about 95% of the time', () => {
    const random = seededRandom(3, 'coverage-paired');
    const n = 150;
    const truth = 0.03;
    const indices = resampleIndices(n, 1000, 'coverage-paired');
    let covered = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const difficulty = Array.from({ length: n }, () => 0.2 + 0.5 * random.next());
      const a = difficulty.map((d) => d + truth + 0.1 * normal(random));
      const b = difficulty.map((d) => d + 0.1 * normal(random));
      const interval = pairedInterval(meanRows(a), meanRows(b), indices);
      if (interval.low <= truth && truth <= interval.high) covered++;
    }
    const coverage = rate(covered, REPS);
    expect(coverage).toBeGreaterThanOrEqual(COVERAGE_BAND.low);
    expect(coverage).toBeLessThanOrEqual(COVERAGE_BAND.high);
  });
});

/** Two systems with no true difference: each question's two scores are exchangeable. */
function nullPair(random: SeededRandom, n: number): [QuestionRows, QuestionRows] {
  const difficulty = Array.from({ length: n }, () => random.next());
  const score = (d: number) => clamp01(d + 0.15 * normal(random));
  return [meanRows(difficulty.map(score)), meanRows(difficulty.map(score))];
}

describe('paired tests keep their level', () => {
  it('approximate randomisation rejects a true null about 5% of the time', () => {
    const random = seededRandom(4, 'fpr-ar');
    let rejected = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const [a, b] = nullPair(random, 120);
      if (approximateRandomisation(a, b, { trials: 999, seed: rep }) <= 0.05) rejected++;
    }
    const fpr = rate(rejected, REPS);
    expect(fpr).toBeGreaterThanOrEqual(0.02);
    expect(fpr).toBeLessThanOrEqual(0.08);
  });

  it('approximate randomisation on corpus BLEU rejects a true null about 5% of the time', () => {
    const random = seededRandom(5, 'fpr-bleu');
    const width = bleuStatisticsWidth();
    const metric = bleuMetric();
    const n = 100;
    const reps = 200;
    const system = (quality: readonly number[]) => {
      const rows = new Float64Array(n * width);
      for (let i = 0; i < n; i++) {
        const length = 8 + random.below(12);
        for (let o = 0; o < 4; o++) {
          const possible = length - o;
          let matches = 0;
          for (let k = 0; k < possible; k++) {
            if (random.next() < (quality[i] as number) * 0.7 ** o) matches++;
          }
          rows[i * width + o] = matches;
          rows[i * width + 4 + o] = possible;
        }
        rows[i * width + 8] = length;
        rows[i * width + 9] = 14;
      }
      return { metric, n, rows };
    };
    let rejected = 0;
    for (let rep = 0; rep < reps; rep++) {
      const quality = Array.from({ length: n }, () => 0.2 + 0.6 * random.next());
      const p = approximateRandomisation(system(quality), system(quality), {
        trials: 499,
        seed: rep,
      });
      if (p <= 0.05) rejected++;
    }
    const fpr = rate(rejected, reps);
    expect(fpr).toBeGreaterThanOrEqual(0.01);
    expect(fpr).toBeLessThanOrEqual(0.09);
  });

  it("McNemar's exact test stays at or under 5% under the null", () => {
    const random = seededRandom(6, 'fpr-mcnemar');
    let rejected = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const easy = Array.from({ length: 200 }, () => 0.3 + 0.6 * random.next());
      const a = easy.map((p) => (random.next() < p ? 1 : 0));
      const b = easy.map((p) => (random.next() < p ? 1 : 0));
      if (mcnemarExact(a, b).pValue <= 0.05) rejected++;
    }
    // Exact tests are conservative (their level sits under 5% on a discrete statistic).
    const fpr = rate(rejected, REPS);
    expect(fpr).toBeGreaterThanOrEqual(0.01);
    expect(fpr).toBeLessThanOrEqual(0.07);
  });

  it('detects a real difference (the tests are not simply always silent)', () => {
    const random = seededRandom(7, 'power');
    let rejectedAr = 0;
    let rejectedMcNemar = 0;
    const reps = 50;
    for (let rep = 0; rep < reps; rep++) {
      const difficulty = Array.from({ length: 300 }, () => random.next());
      const a = meanRows(difficulty.map((d) => clamp01(d + 0.05 + 0.1 * normal(random))));
      const b = meanRows(difficulty.map((d) => clamp01(d + 0.1 * normal(random))));
      if (approximateRandomisation(a, b, { trials: 499, seed: rep }) <= 0.05) rejectedAr++;
      const ca = difficulty.map((d) => (random.next() < 0.55 + 0.3 * d ? 1 : 0));
      const cb = difficulty.map((d) => (random.next() < 0.4 + 0.3 * d ? 1 : 0));
      if (mcnemarExact(ca, cb).pValue <= 0.05) rejectedMcNemar++;
    }
    expect(rate(rejectedAr, reps)).toBeGreaterThan(0.9);
    expect(rate(rejectedMcNemar, reps)).toBeGreaterThan(0.8);
  });
});

describe("Holm's correction", () => {
  it('keeps the family-wise error rate of 10 null comparisons at or under 5%', () => {
    const random = seededRandom(8, 'fwer');
    const reps = 200;
    const family = 10;
    let anyHolm = 0;
    let anyRaw = 0;
    for (let rep = 0; rep < reps; rep++) {
      const n = 80;
      const difficulty = Array.from({ length: n }, () => random.next());
      const system = () => meanRows(difficulty.map((d) => clamp01(d + 0.15 * normal(random))));
      const reference = system();
      const pValues = Array.from({ length: family }, (_, k) =>
        approximateRandomisation(system(), reference, { trials: 299, seed: `${rep}:${k}` }),
      );
      if (pValues.some((p) => p <= 0.05)) anyRaw++;
      if (holmAdjust(pValues).some((p) => p <= 0.05)) anyHolm++;
    }
    // Uncorrected, some comparison of ten is "significant" far more often than 5%.
    expect(rate(anyRaw, reps)).toBeGreaterThan(0.2);
    expect(rate(anyHolm, reps)).toBeLessThanOrEqual(0.07);
  });

  it('adjusts as the step-down procedure defines', () => {
    expect(holmAdjust([0.01, 0.04, 0.03, 0.5])).toEqual([0.04, 0.09, 0.09, 0.5]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe("McNemar's exact test", () => {
  it('matches the binomial tail computed by hand', () => {
    // 8 discordant, 1 vs 7: p = 2 * (1 + 8) / 256.
    const a = [1, 1, 1, 1, 1, 1, 1, 0, 1, 0];
    const b = [0, 0, 0, 0, 0, 0, 0, 1, 1, 0];
    const result = mcnemarExact(a, b);
    expect(result).toMatchObject({ onlyA: 7, onlyB: 1 });
    expect(result.pValue).toBeCloseTo((2 * 9) / 256, 12);
    expect(mcnemarExact([1, 0], [1, 0]).pValue).toBe(1);
  });

  it('stays finite with thousands of discordant questions', () => {
    const a = Array.from({ length: 3000 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const b = a.map((x) => 1 - x);
    expect(mcnemarExact(a, b).pValue).toBeCloseTo(1, 6);
  });
});

describe('approximate randomisation', () => {
  it('gives p = 1 for a system against itself', () => {
    const rows = meanRows([0.1, 0.5, 0.9, 0.3]);
    expect(approximateRandomisation(rows, rows, { seed: 1, trials: 100 })).toBe(1);
  });
});
