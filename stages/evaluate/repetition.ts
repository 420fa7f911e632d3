import { rougeTokenize } from './rouge.ts';

/**
 * Repetition, the weakness of small models the paper names: loops of the same phrase.
 * Words are `rouge_score`'s tokens (lowercased alphanumerics), so punctuation and case do not
 * count as variety.
 *
 * - rep-n (Welleck et al. 2019): per answer, the share of its n-grams that repeat an earlier
 *   one (1 - distinct/total), averaged over answers that have at least one n-gram.
 * - distinct-n (Li et al. 2016): over all answers together, distinct n-grams / all n-grams;
 *   low values mean the model says the same things to every question.
 */
export interface RepetitionStats {
  /** rep-n for n = 1..4, keyed `rep_1` .. `rep_4`. */
  rep: Record<`rep_${1 | 2 | 3 | 4}`, number>;
  distinct_1: number;
  distinct_2: number;
}

export function repetitionStats(answers: readonly string[]): RepetitionStats {
  const tokenized = answers.map((a) => rougeTokenize(a));
  const rep = {} as RepetitionStats['rep'];
  for (const n of [1, 2, 3, 4] as const) {
    let sum = 0;
    let counted = 0;
    for (const tokens of tokenized) {
      const total = tokens.length - n + 1;
      if (total <= 0) continue;
      sum += 1 - ngramSet(tokens, n).size / total;
      counted++;
    }
    rep[`rep_${n}`] = counted === 0 ? 0 : sum / counted;
  }
  return { rep, distinct_1: distinctN(tokenized, 1), distinct_2: distinctN(tokenized, 2) };
}

function distinctN(tokenized: readonly string[][], n: number): number {
  const all = new Set<string>();
  let total = 0;
  for (const tokens of tokenized) {
    for (const gram of ngramSet(tokens, n)) all.add(gram);
    total += Math.max(tokens.length - n + 1, 0);
  }
  return total === 0 ? 0 : all.size / total;
}

function ngramSet(tokens: readonly string[], n: number): Set<string> {
  const grams = new Set<string>();
  for (let i = 0; i + n <= tokens.length; i++) grams.add(tokens.slice(i, i + n).join(' '));
  return grams;
}
