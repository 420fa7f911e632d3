import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { EvaluateParams } from '../../stages/evaluate/contract.ts';
import { createBertScorer } from '../../stages/evaluate/encoders/bert-score.ts';
import { prepareEvaluate } from '../../stages/evaluate/run-evaluate.ts';

// A models folder of its own, so the export really runs here rather than finding the project's.
const modelsDir = mkdtempSync(join(tmpdir(), 'dermatune-models-'));
const previous = process.env.DERMATUNE_MODELS_DIR;
process.env.DERMATUNE_MODELS_DIR = modelsDir;

afterAll(() => {
  if (previous === undefined) delete process.env.DERMATUNE_MODELS_DIR;
  else process.env.DERMATUNE_MODELS_DIR = previous;
  rmSync(modelsDir, { recursive: true, force: true });
});

const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
const params: EvaluateParams = {
  seed: 1,
  eval: {
    bleu: { smooth: false },
    rouge: { use_stemmer: true },
    bertscore: { model: MODEL, rescale_with_baseline: false, idf: false },
    encoder: { model: MODEL },
  },
};

describe("the evaluate kind's prepare", () => {
  test('sets up the encoders the stage will load, once, so the stage finds them ready', async () => {
    const first = prepareEvaluate(params);
    // The ten evaluate stages of a sweep share one set-up.
    expect(prepareEvaluate(structuredClone(params))).toBe(first);
    await first;
    const exported = join(modelsDir, 'all-MiniLM-L6-v2', 'model.onnx');
    const madeAt = statSync(exported).mtimeMs;

    const lines: string[] = [];
    const scorer = await createBertScorer({ model: MODEL, log: (line) => lines.push(line) });
    if (!scorer.ok) throw new Error(scorer.error.message);
    expect(lines.filter((line) => line.startsWith('setting up encoder'))).toEqual([]);
    expect(statSync(exported).mtimeMs).toBe(madeAt);
  }, 600_000);
});
