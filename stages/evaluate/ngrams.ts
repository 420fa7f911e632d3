/**
 * N-gram counts keyed by the n-gram's tokens joined with a space; tokens of both tokenizers
 * here never contain whitespace, so the key is unambiguous. The order is the count of spaces
 * plus one, which callers get back from `ngramOrder`.
 */
export type NgramCounts = Map<string, number>;

/** All n-grams of orders 1..maxOrder, counted (Python's `Counter` of tuples). */
export function countNgramsUpTo(tokens: readonly string[], maxOrder: number): NgramCounts {
  const counts: NgramCounts = new Map();
  for (let order = 1; order <= maxOrder; order++) addNgrams(counts, tokens, order);
  return counts;
}

/** The n-grams of exactly one order. */
export function countNgrams(tokens: readonly string[], order: number): NgramCounts {
  const counts: NgramCounts = new Map();
  addNgrams(counts, tokens, order);
  return counts;
}

export function ngramOrder(key: string): number {
  let order = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 32) order++;
  return order;
}

/** Python's `Counter |= Counter` over the references: each n-gram's highest count. */
export function maxCountsOver(countsList: readonly NgramCounts[]): NgramCounts {
  if (countsList.length === 1) return countsList[0] as NgramCounts;
  const merged: NgramCounts = new Map();
  for (const counts of countsList) {
    for (const [ngram, count] of counts) {
      if (count > (merged.get(ngram) ?? 0)) merged.set(ngram, count);
    }
  }
  return merged;
}

function addNgrams(counts: NgramCounts, tokens: readonly string[], order: number): void {
  for (let i = 0; i + order <= tokens.length; i++) {
    let key = tokens[i] as string;
    for (let k = 1; k < order; k++) key += ` ${tokens[i + k]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}
