import { describe, expect, test } from 'vitest';
import { idfWeights } from '../../stages/evaluate/encoders/bert-score.ts';
import {
  greedyMatch,
  greedyMatchBatches,
  type MatchInput,
  type TokenVectors,
} from '../../stages/evaluate/encoders/bert-score-matching.ts';
import { resolveEncoder } from '../../stages/evaluate/encoders/encoder-catalog.ts';
import { lengthBatches } from '../../stages/evaluate/encoders/length-batches.ts';

/** Unit vectors in the plane at the given angles (degrees): cosines are easy to read. */
function tokens(...degrees: number[]): TokenVectors {
  const vectors = new Float64Array(degrees.length * 2);
  degrees.forEach((d, k) => {
    vectors[2 * k] = Math.cos((d * Math.PI) / 180);
    vectors[2 * k + 1] = Math.sin((d * Math.PI) / 180);
  });
  return { vectors, length: degrees.length };
}

/** [CLS] x [SEP] weighting: the specials at 0, as bert_score without idf. */
const specialsZero = (n: number) => [0, ...Array<number>(n - 2).fill(1), 0];
const noPadding = { referencePadded: false, candidatePadded: false };

describe('greedy matching as bert_score computes it', () => {
  test('identical sentences score 1', () => {
    const pair: MatchInput = {
      candidate: tokens(0, 30, 90),
      reference: tokens(0, 30, 90),
      candidateWeights: specialsZero(3),
      referenceWeights: specialsZero(3),
    };
    const s = greedyMatch(pair, 2, noPadding);
    expect(s.precision).toBeCloseTo(1, 12);
    expect(s.recall).toBeCloseTo(1, 12);
    expect(s.f1).toBeCloseTo(1, 12);
  });

  test('a content token may match a special token of the other sentence', () => {
    // Candidate content token at 10 degrees; reference: [CLS] at 0, content at 80, [SEP] at 90.
    const pair: MatchInput = {
      candidate: tokens(45, 10, 90),
      reference: tokens(0, 80, 90),
      candidateWeights: specialsZero(3),
      referenceWeights: specialsZero(3),
    };
    const s = greedyMatch(pair, 2, noPadding);
    expect(s.precision).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 12); // matched to [CLS]
    expect(s.recall).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 12); // 80 vs candidate's 90
  });

  test('a negative best match is floored at 0 only when the partner was padded in its batch', () => {
    const pair: MatchInput = {
      candidate: tokens(180, 180, 180),
      reference: tokens(0, 10, 0),
      candidateWeights: [0, 1, 0],
      referenceWeights: [0, 1, 0],
    };
    expect(greedyMatch(pair, 2, noPadding).precision).toBeCloseTo(
      -Math.cos((10 * Math.PI) / 180),
      12,
    );
    expect(greedyMatch(pair, 2, { referencePadded: true, candidatePadded: false }).precision).toBe(
      0,
    );
    const longer: MatchInput = {
      ...pair,
      reference: tokens(0, 10, 10, 0),
      referenceWeights: [0, 1, 1, 0],
    };
    const [first] = greedyMatchBatches([pair, longer], 2, 64);
    expect(first?.precision).toBe(0);
    const [alone] = greedyMatchBatches([pair, longer], 2, 1);
    expect(alone?.precision).toBeLessThan(0);
  });

  test('an empty sentence (the two specials only) scores 0 on P, R and F1', () => {
    const pair: MatchInput = {
      candidate: tokens(0, 90),
      reference: tokens(0, 30, 90),
      candidateWeights: [0, 0],
      referenceWeights: specialsZero(3),
    };
    expect(greedyMatch(pair, 2, noPadding)).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  test('idf weights are log((N+1)/(df+1)), log(N+1) for unseen tokens, 0 for the specials', () => {
    const weight = idfWeights([
      [101, 7, 8, 102],
      [101, 7, 102],
      [101, 102],
    ]);
    expect(weight(101)).toBe(0);
    expect(weight(7)).toBeCloseTo(Math.log(4 / 3), 15);
    expect(weight(8)).toBeCloseTo(Math.log(4 / 2), 15);
    expect(weight(999)).toBeCloseTo(Math.log(4), 15);
  });
});

describe('encoder batching and catalog', () => {
  test('batches longest first within a count and a padded-token budget', () => {
    const lengths = [5, 300, 7, 290, 6, 8];
    const batches = lengthBatches(lengths, 3, 600);
    expect(batches).toEqual([[1, 3], [5, 2, 4], [0]]);
    expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('knows the packaged MiniLM by hub id and short name; other ids are hub repos', () => {
    const byId = resolveEncoder('sentence-transformers/all-MiniLM-L6-v2');
    const byName = resolveEncoder('all-MiniLM-L6-v2');
    expect(byId.ok && byId.value.name).toBe('all-MiniLM-L6-v2');
    expect(byName.ok && byName.value.modelId).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(resolveEncoder('roberta-large')).toEqual({
      ok: true,
      value: {
        modelId: 'roberta-large',
        name: 'hub-roberta-large',
        source: { kind: 'hub', repo: 'roberta-large', revision: 'main' },
      },
    });
    const pinned = resolveEncoder('FacebookAI/roberta-large', 'abc');
    expect(pinned.ok && pinned.value.source).toEqual({
      kind: 'hub',
      repo: 'FacebookAI/roberta-large',
      revision: 'abc',
    });
    // Neither a folder nor a repo id the hub would accept.
    for (const bad of ['not a model', 'a/b/c', 'a--b', '']) {
      const refused = resolveEncoder(bad);
      expect(refused.ok ? bad : refused.error.reason).toBe('unknown-encoder');
    }
  });
});
