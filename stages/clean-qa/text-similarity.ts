/**
 * Token-set Jaccard similarity on normalised text, and an exact all-pairs search for near
 * duplicates above a threshold that does not compare every pair with every other.
 *
 * Why token sets: the QA pairs are short paragraphs written by one LLM from a fixed question
 * bank; a near duplicate is the same question with the same answer reworded slightly or
 * reordered, which shared words capture and character edits over-penalise. Normalisation
 * (NFKC, lower case, every run of non-letters/non-digits a separator) makes punctuation and
 * case differences vanish before comparing.
 */

export function normaliseText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function tokenSet(text: string): Set<string> {
  const normal = normaliseText(text);
  return new Set(normal === '' ? [] : normal.split(' '));
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const token of small) if (large.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}

export interface NearDuplicate {
  /** Index (into the input) of the set that is a duplicate. */
  index: number;
  /** Index of the earlier, kept set it duplicates. */
  of: number;
  similarity: number;
}

/**
 * Walks the sets in order and marks each one whose Jaccard similarity to an earlier kept set is
 * at least `threshold`; the first of a group is kept. Exact, by prefix filtering (Bayardo et al.,
 * "Scaling up all pairs similarity search", 2007): with tokens ordered rarest first, two sets
 * with Jaccard >= t must share a token among the first |x| - ceil(t|x|) + 1 of each, so only
 * sets sharing a prefix token are compared.
 */
export function findNearDuplicates(
  sets: ReadonlyArray<ReadonlySet<string>>,
  threshold: number,
): NearDuplicate[] {
  if (!(threshold > 0 && threshold <= 1))
    throw new RangeError(`threshold ${threshold} not in (0, 1]`);
  const frequency = new Map<string, number>();
  for (const set of sets)
    for (const token of set) frequency.set(token, (frequency.get(token) ?? 0) + 1);
  const order = (a: string, b: string) =>
    (frequency.get(a) ?? 0) - (frequency.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
  const index = new Map<string, number[]>();
  const duplicates: NearDuplicate[] = [];
  sets.forEach((set, i) => {
    if (set.size === 0) return;
    const tokens = [...set].sort(order);
    // The small epsilon keeps 0.7 * 10 from rounding up to 8 and shortening the prefix.
    const prefix = tokens.slice(0, tokens.length - Math.ceil(threshold * tokens.length - 1e-9) + 1);
    const seen = new Set<number>();
    let best: NearDuplicate | undefined;
    for (const token of prefix) {
      for (const j of index.get(token) ?? []) {
        if (seen.has(j)) continue;
        seen.add(j);
        const other = sets[j] as ReadonlySet<string>;
        if (other.size < threshold * set.size - 1e-9 || set.size < threshold * other.size - 1e-9) {
          continue;
        }
        const similarity = jaccard(set, other);
        if (similarity >= threshold && (!best || similarity > best.similarity)) {
          best = { index: i, of: j, similarity };
        }
      }
    }
    if (best) {
      duplicates.push(best);
      return;
    }
    for (const token of prefix) {
      const list = index.get(token);
      if (list) list.push(i);
      else index.set(token, [i]);
    }
  });
  return duplicates;
}
