/**
 * BERTScore's greedy matching, step for step as `bert_score.utils.greedy_cos_idf` (0.3.13)
 * does it, including the parts that follow from its tensor layout rather than from the paper:
 * - special tokens are excluded only through their weight (0); they still take part in the
 *   max, so a candidate token may match the reference's [CLS];
 * - a batch pads every reference (candidate) to the longest in the batch and padded cells
 *   are zero after masking, so a token's best match is floored at 0 whenever its partner was
 *   padded in that batch;
 * - weights are normalised per sentence (0/0 gives NaN, as in torch), an empty sentence (two
 *   tokens, the specials) gets precision and recall 0, and a NaN F1 becomes 0.
 */

/** One sentence's token vectors, each already L2-normalised, row-major `[length, hidden]`. */
export interface TokenVectors {
  vectors: Float64Array;
  length: number;
}

export interface MatchInput {
  candidate: TokenVectors;
  reference: TokenVectors;
  /** Per-token weights (idf, or 1 with the specials at 0), in token order. */
  candidateWeights: readonly number[];
  referenceWeights: readonly number[];
}

export interface PairScores {
  precision: number;
  recall: number;
  f1: number;
}

/** Scores pairs in consecutive batches of `batchSize`, as bert_score walks them. */
export function greedyMatchBatches(
  pairs: readonly MatchInput[],
  hidden: number,
  batchSize: number,
): PairScores[] {
  const scores: PairScores[] = [];
  for (let start = 0; start < pairs.length; start += batchSize) {
    const batch = pairs.slice(start, start + batchSize);
    const longestCandidate = Math.max(...batch.map((p) => p.candidate.length));
    const longestReference = Math.max(...batch.map((p) => p.reference.length));
    for (const pair of batch) {
      scores.push(
        greedyMatch(pair, hidden, {
          referencePadded: pair.reference.length < longestReference,
          candidatePadded: pair.candidate.length < longestCandidate,
        }),
      );
    }
  }
  return scores;
}

export function greedyMatch(
  pair: MatchInput,
  hidden: number,
  padding: { referencePadded: boolean; candidatePadded: boolean },
): PairScores {
  const { candidate, reference } = pair;
  const bestForCandidate = new Float64Array(candidate.length).fill(Number.NEGATIVE_INFINITY);
  const bestForReference = new Float64Array(reference.length).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < candidate.length; i++) {
    for (let j = 0; j < reference.length; j++) {
      const sim = dot(candidate.vectors, i * hidden, reference.vectors, j * hidden, hidden);
      if (sim > (bestForCandidate[i] ?? 0)) bestForCandidate[i] = sim;
      if (sim > (bestForReference[j] ?? 0)) bestForReference[j] = sim;
    }
  }
  if (padding.referencePadded) floorAtZero(bestForCandidate);
  if (padding.candidatePadded) floorAtZero(bestForReference);

  let precision = weightedMean(bestForCandidate, pair.candidateWeights);
  let recall = weightedMean(bestForReference, pair.referenceWeights);
  const f1 = (2 * precision * recall) / (precision + recall);
  if (candidate.length === 2 || reference.length === 2) {
    precision = 0;
    recall = 0;
  }
  return { precision, recall, f1: Number.isNaN(f1) ? 0 : f1 };
}

function weightedMean(values: Float64Array, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let sum = 0;
  values.forEach((value, k) => {
    sum += value * ((weights[k] ?? 0) / total);
  });
  return sum;
}

function floorAtZero(values: Float64Array): void {
  for (let k = 0; k < values.length; k++) if ((values[k] ?? 0) < 0) values[k] = 0;
}

function dot(
  a: Float64Array,
  offsetA: number,
  b: Float64Array,
  offsetB: number,
  n: number,
): number {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += (a[offsetA + k] ?? 0) * (b[offsetB + k] ?? 0);
  return sum;
}
