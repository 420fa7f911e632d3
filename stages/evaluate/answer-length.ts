import { rougeTokenize } from './rouge.ts';

/**
 * Answer length in words (`rouge_score`'s tokens) and characters. Overlap metrics reward or
 * punish verbosity (the paper names it), so the length and its ratio to the references'
 * belong next to BLEU and ROUGE.
 */
export interface AnswerLengthStats {
  words_mean: number;
  words_median: number;
  words_p90: number;
  chars_mean: number;
  /** Mean prediction words over mean reference words; 1 means as long as the references. */
  words_ratio_to_reference: number;
  /** Share of predictions with no word at all. */
  empty_share: number;
}

export function answerLengthStats(
  predictions: readonly string[],
  references: readonly string[],
): AnswerLengthStats {
  const words = predictions.map((p) => rougeTokenize(p).length);
  const referenceWords = mean(references.map((r) => rougeTokenize(r).length));
  const sorted = [...words].sort((a, b) => a - b);
  return {
    words_mean: mean(words),
    words_median: quantile(sorted, 0.5),
    words_p90: quantile(sorted, 0.9),
    chars_mean: mean(predictions.map((p) => [...p].length)),
    words_ratio_to_reference: referenceWords === 0 ? 0 : mean(words) / referenceWords,
    empty_share: words.length === 0 ? 0 : words.filter((w) => w === 0).length / words.length,
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Linear interpolation between order statistics (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}
