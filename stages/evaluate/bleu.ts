import type { AdditiveMetric } from './bootstrap.ts';
import { NgramCounter } from './ngrams.ts';
import { asReferenceList, type ReferenceInput } from './references.ts';
import { tokenize13a } from './tokenizer-13a.ts';

/**
 * Corpus BLEU exactly as Hugging Face `evaluate`'s `bleu` metric computes it: the 13a tokenizer
 * on the raw strings, then tensorflow/nmt's `compute_bleu` (n-gram counts clipped by the
 * maximum count over the references, the shortest reference for the length, Lin & Och add-one
 * smoothing on every order when `smooth`, and BP = exp(1 - 1/ratio)). Scores are in 0..1.
 * Every floating-point step is done in the reference's order, so the values agree to the last
 * bits, not just to a tolerance.
 */
export interface BleuOptions {
  /** Highest n-gram order; `evaluate` uses 4. */
  maxOrder?: number;
  /** Lin & Och (2004) add-one smoothing; `evaluate`'s default is off. */
  smooth?: boolean;
}

/** The fields of `evaluate`'s `bleu` result, with the same meanings. */
export interface BleuResult {
  bleu: number;
  precisions: number[];
  brevity_penalty: number;
  length_ratio: number;
  translation_length: number;
  reference_length: number;
}

/**
 * `references[i]` is one reference string or the list of references of prediction `i`
 * (at least one each). An empty corpus scores 0 (`evaluate` itself raises on it).
 */
export function computeBleu(
  predictions: readonly string[],
  references: readonly ReferenceInput[],
  options: BleuOptions = {},
): BleuResult {
  const maxOrder = options.maxOrder ?? 4;
  const rows = bleuStatistics(predictions, references, maxOrder);
  const width = bleuStatisticsWidth(maxOrder);
  const sums = new Float64Array(width);
  for (let i = 0; i < predictions.length; i++) {
    for (let j = 0; j < width; j++) sums[j] = (sums[j] as number) + (rows[i * width + j] as number);
  }
  return bleuFromStatistics(sums, options);
}

/** Numbers per prediction in `bleuStatistics`: matches and possible n-grams per order, then the two lengths. */
export function bleuStatisticsWidth(maxOrder = 4): number {
  return 2 * maxOrder + 2;
}

/**
 * Each prediction's sufficient statistics, flat (`rows[i * width + j]`): clipped matches of
 * orders 1..maxOrder, possible n-grams of orders 1..maxOrder, its length, and its shortest
 * reference's length. Corpus BLEU is a function of their sums, which is how the bootstrap
 * recomputes it on a resample of questions and how the evaluate stage stores it per line.
 */
export function bleuStatistics(
  predictions: readonly string[],
  references: readonly ReferenceInput[],
  maxOrder = 4,
): Float64Array {
  if (predictions.length !== references.length) {
    throw new Error(`bleu: ${predictions.length} predictions but ${references.length} references`);
  }
  const width = bleuStatisticsWidth(maxOrder);
  const rows = new Float64Array(predictions.length * width);
  const counter = new NgramCounter();
  for (let i = 0; i < predictions.length; i++) {
    const refs = asReferenceList(references[i] as ReferenceInput);
    const refTokens = refs.map((r) => counter.tokenIds(tokenize13a(r)));
    const translation = counter.tokenIds(tokenize13a(predictions[i] as string));
    let shortest = Number.POSITIVE_INFINITY;
    for (const r of refTokens) shortest = Math.min(shortest, r.length);
    const matches = counter.clippedMatches(
      counter.ngramIds(translation, maxOrder),
      refTokens.map((r) => counter.ngramIds(r, maxOrder)),
    );
    const base = i * width;
    for (let o = 0; o < maxOrder; o++) {
      rows[base + o] = matches[o] ?? 0;
      rows[base + maxOrder + o] = Math.max(translation.length - o, 0);
    }
    rows[base + 2 * maxOrder] = translation.length;
    rows[base + 2 * maxOrder + 1] = shortest;
  }
  return rows;
}

/** `compute_bleu`'s final steps on summed statistics (the layout of `bleuStatistics`). */
export function bleuFromStatistics(sums: ArrayLike<number>, options: BleuOptions = {}): BleuResult {
  const maxOrder = options.maxOrder ?? 4;
  const translationLength = sums[2 * maxOrder] as number;
  const referenceLength = sums[2 * maxOrder + 1] as number;
  const precisions = new Array<number>(maxOrder).fill(0);
  for (let i = 0; i < maxOrder; i++) {
    const matches = sums[i] as number;
    const possible = sums[maxOrder + i] as number;
    if (options.smooth) precisions[i] = (matches + 1) / (possible + 1);
    else precisions[i] = possible > 0 ? matches / possible : 0;
  }

  let geoMean = 0;
  if (Math.min(...precisions) > 0) {
    let logSum = 0;
    for (const p of precisions) logSum += (1 / maxOrder) * Math.log(p);
    geoMean = Math.exp(logSum);
  }

  let ratio = 0;
  let bp = 0;
  if (referenceLength !== 0 && translationLength !== 0) {
    ratio = translationLength / referenceLength;
    bp = ratio > 1 ? 1 : Math.exp(1 - 1 / ratio);
  }

  return {
    bleu: geoMean * bp,
    precisions,
    brevity_penalty: bp,
    length_ratio: ratio,
    translation_length: translationLength,
    reference_length: referenceLength,
  };
}

/** Corpus BLEU as an additive metric over `bleuStatistics` rows, for the bootstrap. */
export function bleuMetric(options: BleuOptions = {}): AdditiveMetric {
  return {
    width: bleuStatisticsWidth(options.maxOrder ?? 4),
    score: (sums) => bleuFromStatistics(sums, options).bleu,
  };
}
