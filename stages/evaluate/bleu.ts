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
  if (predictions.length !== references.length) {
    throw new Error(`bleu: ${predictions.length} predictions but ${references.length} references`);
  }
  const maxOrder = options.maxOrder ?? 4;
  const matchesByOrder = new Array<number>(maxOrder).fill(0);
  const possibleByOrder = new Array<number>(maxOrder).fill(0);
  let referenceLength = 0;
  let translationLength = 0;

  const counter = new NgramCounter();
  for (let i = 0; i < predictions.length; i++) {
    const refs = asReferenceList(references[i] as ReferenceInput);
    const refTokens = refs.map((r) => counter.tokenIds(tokenize13a(r)));
    const translation = counter.tokenIds(tokenize13a(predictions[i] as string));
    let shortest = Number.POSITIVE_INFINITY;
    for (const r of refTokens) shortest = Math.min(shortest, r.length);
    referenceLength += shortest;
    translationLength += translation.length;

    const matches = counter.clippedMatches(
      counter.ngramIds(translation, maxOrder),
      refTokens.map((r) => counter.ngramIds(r, maxOrder)),
    );
    for (let o = 0; o < maxOrder; o++) {
      matchesByOrder[o] = (matchesByOrder[o] ?? 0) + (matches[o] ?? 0);
      const possible = translation.length - o;
      if (possible > 0) possibleByOrder[o] = (possibleByOrder[o] ?? 0) + possible;
    }
  }

  const precisions = new Array<number>(maxOrder).fill(0);
  for (let i = 0; i < maxOrder; i++) {
    const matches = matchesByOrder[i] as number;
    const possible = possibleByOrder[i] as number;
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
