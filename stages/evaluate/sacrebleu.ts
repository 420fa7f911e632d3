import { NgramCounter } from './ngrams.ts';
import { pythonRstrip } from './python-text.ts';
import { asReferenceList, type ReferenceInput } from './references.ts';
import { tokenize13a } from './tokenizer-13a.ts';

/**
 * Corpus BLEU exactly as sacreBLEU 2.x's `corpus_bleu` computes it with its defaults: the
 * segment right-stripped then 13a-tokenized, the closest reference length (the shorter on a
 * tie), counts clipped by the maximum over references, and the NIST `exp` smoothing (an order
 * with no match gets 1/(2^k * total)). Scores are in 0..100, as sacreBLEU reports them.
 *
 * It differs from `evaluate`'s `bleu` in three ways that move the numbers: the length used for
 * the brevity penalty, the smoothing, and the right-strip before tokenizing.
 */
export type SacreBleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

export interface SacreBleuOptions {
  /** sacreBLEU's default is `exp`. */
  smoothMethod?: SacreBleuSmoothing;
  /** For `floor` (default 0.1) and `add-k` (default 1). */
  smoothValue?: number;
  maxOrder?: number;
  /** Drops the orders after the first with no hypothesis n-grams (sentence-level use). */
  effectiveOrder?: boolean;
}

/** The fields of sacreBLEU's `BLEUScore`. */
export interface SacreBleuResult {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
}

export function computeSacreBleu(
  predictions: readonly string[],
  references: readonly ReferenceInput[],
  options: SacreBleuOptions = {},
): SacreBleuResult {
  if (predictions.length !== references.length) {
    throw new Error(
      `sacrebleu: ${predictions.length} predictions but ${references.length} references`,
    );
  }
  const maxOrder = options.maxOrder ?? 4;
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;

  const counter = new NgramCounter();
  for (let i = 0; i < predictions.length; i++) {
    const refTokens = asReferenceList(references[i] as ReferenceInput).map((r) =>
      counter.tokenIds(preprocess(r)),
    );
    const hypothesis = counter.tokenIds(preprocess(predictions[i] as string));
    sysLen += hypothesis.length;
    refLen += closestReferenceLength(
      hypothesis.length,
      refTokens.map((r) => r.length),
    );
    const matches = counter.clippedMatches(
      counter.ngramIds(hypothesis, maxOrder),
      refTokens.map((r) => counter.ngramIds(r, maxOrder)),
    );
    for (let o = 0; o < maxOrder; o++) {
      correct[o] = (correct[o] ?? 0) + (matches[o] ?? 0);
      total[o] = (total[o] ?? 0) + Math.max(hypothesis.length - o, 0);
    }
  }
  return sacreBleuFromStatistics(correct, total, sysLen, refLen, options);
}

/** sacreBLEU's `BLEU.compute_bleu`, step for step. */
export function sacreBleuFromStatistics(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  options: SacreBleuOptions = {},
): SacreBleuResult {
  const maxOrder = options.maxOrder ?? 4;
  const method = options.smoothMethod ?? 'exp';
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[method];
  const correct = [...correctIn];
  const total = [...totalIn];

  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;

  const precisions = new Array<number>(maxOrder).fill(0);
  // sacreBLEU stops early when nothing matched at all (its issue #141).
  if (!correct.some((c) => c !== 0)) {
    return {
      score: 0,
      counts: correct,
      totals: total,
      precisions,
      bp,
      sys_len: sysLen,
      ref_len: refLen,
    };
  }

  let smoothMteval = 1;
  let effectiveOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (method === 'add-k' && n > 1) {
      correct[n - 1] = (correct[n - 1] ?? 0) + smoothValue;
      total[n - 1] = (total[n - 1] ?? 0) + smoothValue;
    }
    const totalN = total[n - 1] ?? 0;
    const correctN = correct[n - 1] ?? 0;
    if (totalN === 0) break;
    if (options.effectiveOrder) effectiveOrder = n;
    if (correctN === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totalN);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / totalN;
      }
    } else {
      precisions[n - 1] = (100 * correctN) / totalN;
    }
  }

  let logSum = 0;
  for (let i = 0; i < effectiveOrder; i++) logSum += flooredLog(precisions[i] as number);
  const score = bp * Math.exp(logSum / effectiveOrder);
  return {
    score,
    counts: correct,
    totals: total,
    precisions,
    bp,
    sys_len: sysLen,
    ref_len: refLen,
  };
}

const SMOOTH_DEFAULTS: Record<SacreBleuSmoothing, number> = {
  exp: 0,
  none: 0,
  floor: 0.1,
  'add-k': 1,
};

/** sacreBLEU's `my_log`: log(0) is floored to -9999999999 so the sum stays finite. */
function flooredLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

function preprocess(segment: string): readonly string[] {
  return tokenize13a(pythonRstrip(segment));
}

/** The reference length closest to the hypothesis length; the shorter one on a tie. */
function closestReferenceLength(hypLen: number, refLens: readonly number[]): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = len;
    } else if (diff === closestDiff && len < closestLen) {
      closestLen = len;
    }
  }
  return closestLen;
}
