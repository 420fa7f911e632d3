import { NgramCounter } from './ngrams.ts';
import { porterStem } from './porter-stemmer.ts';
import { asReferenceList, type ReferenceInput } from './references.ts';

/**
 * ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum exactly as Google's `rouge_score` (0.1.2) computes
 * them, which is what Hugging Face `evaluate`'s `rouge` calls: its tokenizer, n-gram overlap,
 * LCS, and the summary-level union LCS over newline-separated sentences for Lsum, with the
 * Porter stemmer of nltk when asked. F-measure is 2PR/(P+R).
 *
 * Aggregation differs on purpose: `evaluate` aggregates with `rouge_score`'s unseeded
 * BootstrapAggregator (the median of 1,000 resampled means, so it moves from run to run);
 * we report the plain mean of the per-example F-measures, which is reproducible and is what
 * that bootstrap estimates.
 */
export type RougeType = 'rouge1' | 'rouge2' | 'rougeL' | 'rougeLsum';

export const ROUGE_TYPES: readonly RougeType[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'];

export interface RougeOptions {
  /** nltk's Porter stemmer on tokens longer than 3 characters; `evaluate`'s default is off. */
  useStemmer?: boolean;
}

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export type RougeScores = Record<RougeType, RougeScore>;

export interface RougeResult {
  /** Plain mean over examples of each type's F-measure (0 for an empty corpus). */
  mean: Record<RougeType, number>;
  /** Per-example F-measures, in input order. */
  perExample: Record<RougeType, number[]>;
}

/** `rouge_score`'s tokenizer: lowercase, non-alphanumerics to spaces, stem if longer than 3. */
export function rougeTokenize(text: string, useStemmer = false): string[] {
  const words = text.toLowerCase().replace(NON_ALPHANUMERIC, ' ').split(' ');
  const tokens: string[] = [];
  for (const word of words) {
    if (word === '') continue;
    tokens.push(useStemmer && word.length > 3 ? porterStem(word) : word);
  }
  return tokens;
}

const NON_ALPHANUMERIC = /[^a-z0-9]+/g;

/** `RougeScorer.score(target, prediction)` with all four types. */
export function scoreRouge(
  reference: string,
  prediction: string,
  options: RougeOptions = {},
): RougeScores {
  return scorePair(new NgramCounter(), reference, prediction, options.useStemmer ?? false);
}

/** `RougeScorer.score_multi`: per type, the reference with the highest F-measure (first on ties). */
export function scoreRougeMulti(
  references: readonly string[],
  prediction: string,
  options: RougeOptions = {},
): RougeScores {
  return bestOf(references.map((reference) => scoreRouge(reference, prediction, options)));
}

/** Per type, the scores with the highest F-measure (the first on ties, as `np.argmax`). */
function bestOf(all: readonly RougeScores[]): RougeScores {
  const best = {} as RougeScores;
  for (const type of ROUGE_TYPES) {
    let bestIndex = 0;
    for (let i = 1; i < all.length; i++) {
      if ((all[i] as RougeScores)[type].fmeasure > (all[bestIndex] as RougeScores)[type].fmeasure) {
        bestIndex = i;
      }
    }
    best[type] = (all[bestIndex] as RougeScores)[type];
  }
  return best;
}

export function computeRouge(
  predictions: readonly string[],
  references: readonly ReferenceInput[],
  options: RougeOptions = {},
): RougeResult {
  if (predictions.length !== references.length) {
    throw new Error(`rouge: ${predictions.length} predictions but ${references.length} references`);
  }
  const counter = new NgramCounter();
  const stem = options.useStemmer ?? false;
  const perExample: Record<RougeType, number[]> = {
    rouge1: [],
    rouge2: [],
    rougeL: [],
    rougeLsum: [],
  };
  for (let i = 0; i < predictions.length; i++) {
    const refs = asReferenceList(references[i] as ReferenceInput);
    const prediction = predictions[i] as string;
    const scores =
      refs.length === 1
        ? scorePair(counter, refs[0] as string, prediction, stem)
        : bestOf(refs.map((ref) => scorePair(counter, ref, prediction, stem)));
    for (const type of ROUGE_TYPES) perExample[type].push(scores[type].fmeasure);
  }
  const mean = {} as Record<RougeType, number>;
  for (const type of ROUGE_TYPES) mean[type] = plainMean(perExample[type]);
  return { mean, perExample };
}

function plainMean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function scorePair(
  counter: NgramCounter,
  reference: string,
  prediction: string,
  stem: boolean,
): RougeScores {
  const target = counter.tokenIds(rougeTokenize(reference, stem));
  const candidate = counter.tokenIds(rougeTokenize(prediction, stem));
  const targetNgrams = counter.ngramIds(target, 2);
  const [unigrams, bigrams] = counter.clippedMatches(counter.ngramIds(candidate, 2), [
    targetNgrams,
  ]);
  const rougeL = scoreLcs(target, candidate);
  const targetSentences = sentences(reference);
  const candidateSentences = sentences(prediction);
  return {
    rouge1: scoreOverlap(unigrams ?? 0, candidate.length, target.length),
    rouge2: scoreOverlap(bigrams ?? 0, candidate.length - 1, target.length - 1),
    rougeL,
    // With at most one sentence a side, the union LCS is the LCS and Lsum equals L exactly
    // (same counts, same divisions), so the common single-line answer skips the second pass.
    rougeLsum:
      targetSentences.length <= 1 && candidateSentences.length <= 1
        ? rougeL
        : scoreSummaryLcs(
            targetSentences.map((s) => counter.tokenIds(rougeTokenize(s, stem))),
            candidateSentences.map((s) => counter.tokenIds(rougeTokenize(s, stem))),
          ),
  };
}

/** Lsum sentences: split on `\n` only, empty strings dropped (a line of punctuation stays). */
function sentences(text: string): string[] {
  return text.split('\n').filter((s) => s.length > 0);
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function score(precision: number, recall: number): RougeScore {
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** ROUGE-N from the clipped overlap and the n-gram counts (at least 1 as the divisor). */
function scoreOverlap(overlap: number, predictionNgrams: number, targetNgrams: number): RougeScore {
  return score(overlap / Math.max(predictionNgrams, 1), overlap / Math.max(targetNgrams, 1));
}

function scoreLcs(target: Int32Array, prediction: Int32Array): RougeScore {
  if (target.length === 0 || prediction.length === 0) return score(0, 0);
  const lcs = lcsLength(target, prediction);
  return score(lcs / prediction.length, lcs / target.length);
}

/** LCS length with two rolling rows. */
function lcsLength(a: Int32Array, b: Int32Array): number {
  let previous = new Int32Array(b.length + 1);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      if (ai === b[j - 1]) current[j] = (previous[j - 1] as number) + 1;
      else {
        const up = previous[j] as number;
        const left = current[j - 1] as number;
        current[j] = Math.max(up, left);
      }
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}

/**
 * Indices into `ref` of one LCS with `can`, read back from the full table with
 * `rouge_score`'s tie-break (step left only when strictly better), since Lsum's union depends
 * on which LCS is picked.
 */
function lcsIndices(ref: Int32Array, can: Int32Array): number[] {
  const cols = can.length + 1;
  const size = (ref.length + 1) * cols;
  if (lcsTable.length < size) lcsTable = new Int32Array(Math.max(size, lcsTable.length * 2));
  const table = lcsTable;
  // Row 0 and column 0 are the DP's zeros; every other cell is written before it is read.
  table.fill(0, 0, cols);
  for (let i = 1; i <= ref.length; i++) {
    const ri = ref[i - 1];
    table[i * cols] = 0;
    for (let j = 1; j <= can.length; j++) {
      if (ri === can[j - 1]) table[i * cols + j] = (table[(i - 1) * cols + j - 1] as number) + 1;
      else {
        const up = table[(i - 1) * cols + j] as number;
        const left = table[i * cols + j - 1] as number;
        table[i * cols + j] = Math.max(up, left);
      }
    }
  }
  const indices: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      indices.push(i - 1);
      i--;
      j--;
    } else if ((table[i * cols + j - 1] as number) > (table[(i - 1) * cols + j] as number)) j--;
    else i--;
  }
  return indices.reverse();
}

/** Scratch table reused by `lcsIndices` (Lsum compares every sentence pair). */
let lcsTable = new Int32Array(1 << 12);

/** Summary-level LCS (ROUGE paper 3.2) with ROUGE-1.5.5's guard against double counting. */
function scoreSummaryLcs(refSentences: Int32Array[], canSentences: Int32Array[]): RougeScore {
  if (refSentences.length === 0 || canSentences.length === 0) return score(0, 0);
  const m = refSentences.reduce((sum, s) => sum + s.length, 0);
  const n = canSentences.reduce((sum, s) => sum + s.length, 0);
  if (n === 0 || m === 0) return score(0, 0);

  const refCounts = countTokens(refSentences);
  const canCounts = countTokens(canSentences);
  let hits = 0;
  for (const ref of refSentences) {
    const union = new Set<number>();
    for (const can of canSentences) for (const index of lcsIndices(ref, can)) union.add(index);
    const ordered = [...union].sort((a, b) => a - b);
    for (const index of ordered) {
      const token = ref[index] as number;
      const inCan = canCounts.get(token) ?? 0;
      const inRef = refCounts.get(token) ?? 0;
      if (inCan > 0 && inRef > 0) {
        hits++;
        canCounts.set(token, inCan - 1);
        refCounts.set(token, inRef - 1);
      }
    }
  }
  return score(hits / n, hits / m);
}

function countTokens(sentenceList: readonly Int32Array[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const sentence of sentenceList) {
    for (const token of sentence) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return counts;
}
