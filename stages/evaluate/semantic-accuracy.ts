import { seededRandom, seededShuffle } from '../shared/seeded-random.ts';
import { type ProportionInterval, wilsonInterval } from './wilson-interval.ts';

/**
 * Classification accuracy by semantic matching (the paper's protocol): a sentence encoder
 * embeds the model's free answer and the options (the correct answer plus the distractors);
 * the option most similar to the answer (cosine) is the prediction.
 *
 * The encoder is a seam: any `EmbedFunction` (the ONNX sentence encoder of
 * `stages/evaluate/encoders/`, or a toy one in tests).
 */
export type EmbedFunction = (
  texts: readonly string[],
) => Promise<readonly Float32Array[]> | readonly Float32Array[];

export interface AccuracyItem {
  /** Stable identity of the question; seeds its option order. */
  id: string;
  answer: string;
  options: readonly string[];
  /** Index into `options` of the correct one. */
  answerIndex: number;
  /** Question kind for the breakdown (generate-qa writes `general` or `grounded`). */
  kind?: string;
}

export interface AccuracyOptions {
  seed: number;
  /** Texts per embed call; the encoder batches inside, this only bounds memory. */
  batchSize?: number;
}

export interface AccuracyTally extends ProportionInterval {
  n: number;
  correct: number;
  accuracy: number;
}

export interface ItemMatch {
  id: string;
  /** Index into the item's `options` of the most similar option. */
  predictedIndex: number;
  correct: boolean;
  /** Cosine similarity of the answer with each option, in the item's own option order. */
  similarities: number[];
}

export interface AccuracyResult {
  overall: AccuracyTally;
  byKind: Record<string, AccuracyTally>;
  items: ItemMatch[];
}

export async function semanticAccuracy(
  items: readonly AccuracyItem[],
  embed: EmbedFunction,
  options: AccuracyOptions,
): Promise<AccuracyResult> {
  const vectors = await embedUnique(
    items.flatMap((item) => [item.answer, ...item.options]),
    embed,
    options.batchSize ?? 256,
  );
  const matches: ItemMatch[] = items.map((item) => {
    const answer = vectors.get(item.answer) as Float32Array;
    const similarities = item.options.map((o) => cosine(answer, vectors.get(o) as Float32Array));
    // Options are compared in a seeded order, so a tie never favours the stored position
    // (the correct answer's slot) and the same seed always breaks it the same way.
    const order = seededShuffle(
      item.options.map((_, i) => i),
      seededRandom(options.seed, `accuracy-options:${item.id}`),
    );
    let best = order[0] as number;
    for (const i of order)
      if ((similarities[i] as number) > (similarities[best] as number)) best = i;
    return { id: item.id, predictedIndex: best, correct: best === item.answerIndex, similarities };
  });

  const byKind: Record<string, AccuracyTally> = {};
  const kinds = [...new Set(items.map((item) => item.kind ?? 'unknown'))].sort();
  for (const kind of kinds) {
    byKind[kind] = tally(matches.filter((_, i) => (items[i]?.kind ?? 'unknown') === kind));
  }
  return { overall: tally(matches), byKind, items: matches };
}

/** Checks an item before it is scored; the message names what is wrong. */
export function accuracyItemProblem(item: AccuracyItem): string | undefined {
  if (item.options.length < 2) return 'needs at least two options';
  if (!Number.isInteger(item.answerIndex) || item.answerIndex < 0) {
    return 'answer_index must be a non-negative integer';
  }
  if (item.answerIndex >= item.options.length) return 'answer_index is past the last option';
  return undefined;
}

function tally(matches: readonly ItemMatch[]): AccuracyTally {
  const correct = matches.filter((m) => m.correct).length;
  const n = matches.length;
  return { n, correct, accuracy: n === 0 ? 0 : correct / n, ...wilsonInterval(correct, n) };
}

/** Embeds each distinct text once (options repeat across questions, answers can be empty). */
async function embedUnique(
  texts: readonly string[],
  embed: EmbedFunction,
  batchSize: number,
): Promise<Map<string, Float32Array>> {
  const unique = [...new Set(texts)];
  const vectors = new Map<string, Float32Array>();
  for (let start = 0; start < unique.length; start += batchSize) {
    const batch = unique.slice(start, start + batchSize);
    const embedded = await embed(batch);
    if (embedded.length !== batch.length) {
      throw new Error(`embed returned ${embedded.length} vectors for ${batch.length} texts`);
    }
    batch.forEach((text, i) => {
      vectors.set(text, embedded[i] as Float32Array);
    });
  }
  return vectors;
}

/** Cosine similarity; 0 against a zero vector. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cosine: dimensions ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
