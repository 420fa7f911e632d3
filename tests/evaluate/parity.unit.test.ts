import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { type BleuResult, computeBleu } from '../../stages/evaluate/bleu.ts';
import { porterStem } from '../../stages/evaluate/porter-stemmer.ts';
import {
  computeRouge,
  ROUGE_TYPES,
  type RougeScores,
  rougeTokenize,
  scoreRouge,
  scoreRougeMulti,
} from '../../stages/evaluate/rouge.ts';
import { computeSacreBleu, type SacreBleuResult } from '../../stages/evaluate/sacrebleu.ts';
import { tokenize13a } from '../../stages/evaluate/tokenizer-13a.ts';

/**
 * Golden values written by the Python references (scripts/parity/make-golden.py: sacrebleu,
 * rouge_score, nltk, and evaluate's bleu code path). Regenerate with
 * `node scripts/parity/make-golden.ts`; CI only reads the committed file.
 */
interface Golden {
  bleu_reference: string;
  pairs: { id: string; prediction: string; references: string[] }[];
  tokens: { text: string; tok13a: string[]; rouge: string[]; rouge_stemmed: string[] }[];
  rouge: { id: string; plain: GoldenRouge; stemmed: GoldenRouge }[];
  rouge_mean: Record<'plain' | 'stemmed', Record<string, number>>;
  bleu_corpora: {
    name: string;
    ids: string[];
    bleu: BleuResult;
    bleu_smooth: BleuResult;
    sacrebleu: SacreBleuResult;
  }[];
  porter: Record<string, string>;
}
type GoldenRouge = Record<string, [number, number, number]>;

const golden = JSON.parse(
  readFileSync(join(projectRoot(), 'tests/fixtures/parity/golden.json'), 'utf8'),
) as Golden;
const pairsById = new Map(golden.pairs.map((p) => [p.id, p]));
const TOLERANCE = 1e-9;

function pairOf(id: string): Golden['pairs'][number] {
  const pair = pairsById.get(id);
  if (pair === undefined) throw new Error(`golden file names an unknown pair ${id}`);
  return pair;
}

function expectClose(actual: number, expected: number, what: string): void {
  if (!(Math.abs(actual - expected) <= TOLERANCE)) {
    throw new Error(`${what}: got ${actual}, reference ${expected}`);
  }
}

describe('parity with the Python references', () => {
  it('covers at least 200 pairs, edge cases included', () => {
    expect(golden.pairs.length).toBeGreaterThanOrEqual(200);
    expect(golden.pairs.some((p) => p.prediction === '')).toBe(true);
    expect(golden.pairs.some((p) => p.references.length > 1)).toBe(true);
    expect(golden.pairs.some((p) => p.prediction.length > 5000)).toBe(true);
  });

  it('tokenizes like the 13a tokenizer and rouge_score', () => {
    for (const t of golden.tokens) {
      expect(tokenize13a(t.text), t.text).toEqual(t.tok13a);
      expect(rougeTokenize(t.text), t.text).toEqual(t.rouge);
      expect(rougeTokenize(t.text, true), t.text).toEqual(t.rouge_stemmed);
    }
  });

  it("stems every word as nltk's PorterStemmer does", () => {
    const words = Object.entries(golden.porter);
    expect(words.length).toBeGreaterThan(5000);
    const wrong = words.filter(([word, stem]) => porterStem(word) !== stem);
    expect(wrong.map(([w, s]) => `${w}: ${porterStem(w)} != ${s}`)).toEqual([]);
  });

  it("computes evaluate's bleu on every corpus, with and without smoothing", () => {
    for (const corpus of golden.bleu_corpora) {
      const chosen = corpus.ids.map(pairOf);
      const predictions = chosen.map((p) => p.prediction);
      const references = chosen.map((p) => p.references);
      for (const [smooth, expected] of [
        [false, corpus.bleu],
        [true, corpus.bleu_smooth],
      ] as const) {
        const actual = computeBleu(predictions, references, { smooth });
        const what = `${corpus.name} smooth=${smooth}`;
        expectClose(actual.bleu, expected.bleu, `${what} bleu`);
        expectClose(actual.brevity_penalty, expected.brevity_penalty, `${what} bp`);
        expectClose(actual.length_ratio, expected.length_ratio, `${what} ratio`);
        expect(actual.translation_length).toBe(expected.translation_length);
        expect(actual.reference_length).toBe(expected.reference_length);
        actual.precisions.forEach((p, i) => {
          expectClose(p, expected.precisions[i] ?? Number.NaN, `${what} p${i + 1}`);
        });
      }
    }
  });

  it("computes sacreBLEU's corpus_bleu on every corpus", () => {
    for (const corpus of golden.bleu_corpora) {
      const chosen = corpus.ids.map(pairOf);
      const actual = computeSacreBleu(
        chosen.map((p) => p.prediction),
        chosen.map((p) => p.references),
      );
      const expected = corpus.sacrebleu;
      expectClose(actual.score, expected.score, `${corpus.name} score`);
      expectClose(actual.bp, expected.bp, `${corpus.name} bp`);
      expect(actual.counts).toEqual(expected.counts);
      expect(actual.totals).toEqual(expected.totals);
      expect([actual.sys_len, actual.ref_len]).toEqual([expected.sys_len, expected.ref_len]);
      actual.precisions.forEach((p, i) => {
        expectClose(p, expected.precisions[i] ?? Number.NaN, `${corpus.name} p${i + 1}`);
      });
    }
  });

  it('computes ROUGE-1/2/L/Lsum per pair, with and without the stemmer', () => {
    for (const expected of golden.rouge) {
      const pair = pairOf(expected.id);
      for (const [useStemmer, reference] of [
        [false, expected.plain],
        [true, expected.stemmed],
      ] as const) {
        const actual: RougeScores =
          pair.references.length === 1
            ? scoreRouge(pair.references[0] ?? '', pair.prediction, { useStemmer })
            : scoreRougeMulti(pair.references, pair.prediction, { useStemmer });
        for (const type of ROUGE_TYPES) {
          const [p, r, f] = reference[type] ?? [Number.NaN, Number.NaN, Number.NaN];
          const what = `${pair.id} ${type} stem=${useStemmer}`;
          expectClose(actual[type].precision, p, `${what} P`);
          expectClose(actual[type].recall, r, `${what} R`);
          expectClose(actual[type].fmeasure, f, `${what} F`);
        }
      }
    }
  });

  it('averages F-measures with the plain mean', () => {
    const predictions = golden.pairs.map((p) => p.prediction);
    const references = golden.pairs.map((p) => p.references);
    for (const [variant, useStemmer] of [
      ['plain', false],
      ['stemmed', true],
    ] as const) {
      const { mean } = computeRouge(predictions, references, { useStemmer });
      for (const type of ROUGE_TYPES) {
        expectClose(
          mean[type],
          golden.rouge_mean[variant][type] ?? Number.NaN,
          `${variant} ${type}`,
        );
      }
    }
  });
});
