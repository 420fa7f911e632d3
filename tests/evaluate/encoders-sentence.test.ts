import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { loadEncoderTokenizer } from '../../stages/evaluate/encoders/encoder-tokenizer.ts';
import { ensureEncoderModel } from '../../stages/evaluate/encoders/ensure-encoder-model.ts';
import {
  createSentenceEncoder,
  type SentenceEncoder,
} from '../../stages/evaluate/encoders/sentence-encoder.ts';

/** Written by scripts/encoders/make-golden.py with sentence-transformers 6.2.0. */
interface Golden {
  model: string;
  maxSeqLength: number;
  texts: { text: string; tokenIds: number[]; embedding: string }[];
}

const golden = JSON.parse(
  readFileSync(join(projectRoot(), 'tests/fixtures/encoders/sentence-embeddings.json'), 'utf8'),
) as Golden;
const expected = golden.texts.map((t) => {
  const bytes = Buffer.from(t.embedding, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
});

let encoder: SentenceEncoder;

/** On a fresh clone the first call installs the Python venv and exports the model. */
const FIRST_USE_TIMEOUT = 20 * 60_000;

beforeAll(async () => {
  // The setup step exports the model on first use (CI builds it here).
  const created = await createSentenceEncoder();
  if (!created.ok) throw new Error(`${created.error.reason}: ${created.error.message}`);
  encoder = created.value;
}, FIRST_USE_TIMEOUT);

afterAll(async () => {
  await encoder?.release();
});

describe('sentence encoder (all-MiniLM-L6-v2)', () => {
  test('tokenizes every golden text to the ids sentence-transformers feeds the model', async () => {
    const files = await ensureEncoderModel(golden.model);
    if (!files.ok) throw new Error(files.error.message);
    const tokenizer = await loadEncoderTokenizer(files.value.dir, files.value.manifest.modelType);
    const mismatches = golden.texts.filter(
      (t) =>
        JSON.stringify(tokenizer.encode(t.text, golden.maxSeqLength)) !==
        JSON.stringify(t.tokenIds),
    );
    expect(mismatches.map((t) => t.text)).toEqual([]);
  });

  test('embeds like sentence-transformers: cosine >= 0.99999 and |diff| <= 1e-4 on every text', async () => {
    const ours = await encoder.embed(golden.texts.map((t) => t.text));
    expect(ours).toHaveLength(golden.texts.length);
    let worstCosine = 1;
    let worstDiff = 0;
    ours.forEach((vector, k) => {
      const reference = expected[k] as Float32Array;
      expect(vector).toHaveLength(reference.length);
      let dot = 0;
      for (let h = 0; h < vector.length; h++) {
        dot += (vector[h] ?? 0) * (reference[h] ?? 0);
        worstDiff = Math.max(worstDiff, Math.abs((vector[h] ?? 0) - (reference[h] ?? 0)));
      }
      worstCosine = Math.min(worstCosine, dot);
    });
    expect(worstCosine).toBeGreaterThanOrEqual(0.99999);
    expect(worstDiff).toBeLessThanOrEqual(1e-4);
  });

  test('returns unit vectors in input order whatever the batch grouping', async () => {
    const texts = ['A pustule on the scalp.', '', 'An ulcer.', 'A pustule on the scalp.'];
    const [a, empty, ulcer, again] = await encoder.embed(texts);
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    for (const v of [a, empty, ulcer]) expect(norm(v as Float32Array)).toBeCloseTo(1, 5);
    expect(Array.from(again as Float32Array)).toEqual(Array.from(a as Float32Array));
    const [alone] = await encoder.embed(['An ulcer.']);
    const diff = Math.max(
      ...Array.from(alone as Float32Array, (x, h) =>
        Math.abs(x - ((ulcer as Float32Array)[h] ?? 0)),
      ),
    );
    expect(diff).toBeLessThan(1e-5);
  });

  test('ranks a paraphrase above an unrelated option, as the accuracy metric needs', async () => {
    const [answer, paraphrase, unrelated] = await encoder.embed([
      'Honey-coloured crusts on the face, typical of impetigo.',
      'Impetigo with golden crusting on the cheeks.',
      'A pigmented mole on the back with irregular borders.',
    ]);
    const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, h) => s + v * (y[h] ?? 0), 0);
    const a = answer as Float32Array;
    expect(cos(a, paraphrase as Float32Array)).toBeGreaterThan(
      cos(a, unrelated as Float32Array) + 0.1,
    );
  });

  test('names its model', () => {
    expect(encoder.modelId).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(encoder.dimension).toBe(384);
  });
});
