import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { type BertScorer, createBertScorer } from '../../stages/evaluate/encoders/bert-score.ts';
import { loadEncoderTokenizer } from '../../stages/evaluate/encoders/encoder-tokenizer.ts';
import { ensureEncoderModel } from '../../stages/evaluate/encoders/ensure-encoder-model.ts';

/** [precision, recall, f1] */
type Triple = [number, number, number];

/** Written by scripts/encoders/make-golden.py with the `bert_score` package 0.3.13. */
interface Golden {
  model: string;
  layer: number;
  batchSize: number;
  baseline: { precision: number; recall: number; f1: number };
  pairs: {
    candidate: string;
    reference: string;
    candidateIds: number[];
    referenceIds: number[];
    idfOff: Triple;
    idfOn: Triple;
    rescaled: Triple;
  }[];
}

const golden = JSON.parse(
  readFileSync(join(projectRoot(), 'tests/fixtures/encoders/bertscore.json'), 'utf8'),
) as Golden;
const candidates = golden.pairs.map((p) => p.candidate);
const references = golden.pairs.map((p) => p.reference);

const scorers: BertScorer[] = [];
async function scorer(options: Parameters<typeof createBertScorer>[0] = {}): Promise<BertScorer> {
  const created = await createBertScorer({ model: golden.model, ...options });
  if (!created.ok) throw new Error(`${created.error.reason}: ${created.error.message}`);
  scorers.push(created.value);
  return created.value;
}

/** The largest |ours - bert_score| over every pair and P, R, F1 (NaN if a value is missing). */
function worstDifference(
  ours: { precision: number[]; recall: number[]; f1: number[] },
  run: 'idfOff' | 'idfOn' | 'rescaled',
): number {
  expect(ours.f1).toHaveLength(golden.pairs.length);
  let worst = 0;
  golden.pairs.forEach((pair, k) => {
    const mine = [ours.precision[k], ours.recall[k], ours.f1[k]];
    pair[run].forEach((theirs, m) => {
      const difference = Math.abs((mine[m] ?? Number.NaN) - theirs);
      worst = Number.isNaN(difference) ? Number.NaN : Math.max(worst, difference);
    });
  });
  return worst;
}

/** On a fresh clone the first call installs the Python venv and exports the model. */
const FIRST_USE_TIMEOUT = 20 * 60_000;

beforeAll(async () => {
  // The setup step exports the model on first use (CI builds it here).
  await scorer();
}, FIRST_USE_TIMEOUT);

afterAll(async () => {
  await Promise.all(scorers.map((s) => s.release()));
});

describe('BERTScore (all-MiniLM-L6-v2)', () => {
  test('uses the last layer, since bert_score lists no layer for this model, and records it', () => {
    expect(golden.layer).toBe(6);
    expect(scorers[0]?.layer).toBe(6);
    expect(scorers[0]?.model).toBe('sentence-transformers/all-MiniLM-L6-v2');
  });

  test('tokenizes as bert_score.utils.sent_encode (stripped, empty as [CLS] [SEP], 512 cap)', async () => {
    const files = await ensureEncoderModel(golden.model);
    if (!files.ok) throw new Error(files.error.message);
    const tokenizer = await loadEncoderTokenizer(files.value.dir, files.value.manifest.modelType);
    const mismatches = golden.pairs.filter(
      (p) =>
        JSON.stringify(tokenizer.encodeForBertScore(p.candidate)) !==
          JSON.stringify(p.candidateIds) ||
        JSON.stringify(tokenizer.encodeForBertScore(p.reference)) !==
          JSON.stringify(p.referenceIds),
    );
    expect(mismatches.map((p) => p.candidate)).toEqual([]);
  });

  test('matches bert_score within 1e-4 on every pair, idf off', async () => {
    const result = await (scorers[0] as BertScorer).score(candidates, references);
    expect(worstDifference(result, 'idfOff')).toBeLessThanOrEqual(1e-4);
    expect(result).toMatchObject({ layer: 6, idf: false, rescaled: false });
    const meanF1 = golden.pairs.reduce((sum, p) => sum + p.idfOff[2], 0) / golden.pairs.length;
    expect(Math.abs(result.mean.f1 - meanF1)).toBeLessThanOrEqual(1e-4);
  });

  test('matches bert_score within 1e-4 with idf weights from the references', async () => {
    // Same pairs again: the scorer reuses the previous call's vectors.
    const result = await (scorers[0] as BertScorer).score(candidates, references, { idf: true });
    expect(worstDifference(result, 'idfOn')).toBeLessThanOrEqual(1e-4);
    expect(result.idf).toBe(true);
  });

  test('matches bert_score within 1e-4 when rescaled with a baseline', async () => {
    const result = await (scorers[0] as BertScorer).score(candidates, references, {
      baseline: golden.baseline,
    });
    expect(worstDifference(result, 'rescaled')).toBeLessThanOrEqual(1e-4);
    expect(result.rescaled).toBe(true);
  });

  test('scores an empty candidate or reference 0, as bert_score does', async () => {
    const result = await (scorers[0] as BertScorer).score(['', 'A pustule.'], ['A pustule.', '  ']);
    expect(result.precision).toEqual([0, 0]);
    expect(result.recall).toEqual([0, 0]);
    expect(result.f1).toEqual([0, 0]);
  });

  test('refuses a layer the model does not have', async () => {
    const created = await createBertScorer({ model: golden.model, layer: 7 });
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.error.reason).toBe('invalid-layer');
  });
});
