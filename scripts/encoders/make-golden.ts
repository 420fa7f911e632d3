/**
 * Writes the encoder golden files (tests/fixtures/encoders/) from the Python references:
 * sentence-transformers for sentence embeddings and the `bert_score` package for BERTScore,
 * both on the model folder the setup step exported to ONNX. Run by hand when a reference or
 * the pairs change: `node scripts/encoders/make-golden.ts`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import { ensurePythonEnv } from '../../runner/python-env.ts';
import { DEFAULT_SENTENCE_ENCODER } from '../../stages/evaluate/encoders/encoder-catalog.ts';
import { ensureEncoderModel } from '../../stages/evaluate/encoders/ensure-encoder-model.ts';
import { parityPairs } from './parity-pairs.ts';

const root = projectRoot();
const log = (line: string) => console.log(line);
const files = await ensureEncoderModel(DEFAULT_SENTENCE_ENCODER, { log });
if (!files.ok) throw new Error(files.error.message);
const env = await ensurePythonEnv(
  [
    join(root, 'stages/evaluate/encoders/requirements.txt'),
    join(root, 'scripts/encoders/requirements.txt'),
  ],
  log,
);
if (!env.ok) throw new Error(env.error.message);

const work = mkdtempSync(join(tmpdir(), 'encoder-golden-'));
try {
  const pairsFile = join(work, 'pairs.json');
  writeFileSync(pairsFile, JSON.stringify(parityPairs()));
  const { manifest } = files.value;
  const run = spawnSync(
    env.value.python,
    [
      join(root, 'scripts/encoders/make-golden.py'),
      '--model',
      manifest.source,
      '--model-id',
      manifest.modelId,
      // bert_score's model table does not list all-MiniLM-L6-v2: its last layer.
      '--layer',
      String(manifest.numLayers),
      '--pairs',
      pairsFile,
      '--out',
      join(root, 'tests/fixtures/encoders'),
    ],
    { stdio: 'inherit', env: { ...process.env, HF_HUB_OFFLINE: '1' } },
  );
  if (run.status !== 0) process.exitCode = run.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
