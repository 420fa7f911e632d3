import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalModel } from '../../stages/llm/local-model.ts';
import {
  DEMO_STAND_IN_NAME,
  ensureStandInModel,
  type StandInModel,
  standInBuilderDigest,
} from '../../stages/model-worker/stand-in-model.ts';
import { WORKER_DIR } from '../../stages/model-worker/worker-client.ts';
import { workerReady } from './worker-fixture.ts';

/**
 * The demo's stand-in (SmolVLM's shape with SmolLM2-135M-Instruct's weights), built for real from
 * the GGUF the project installs: what it carries, that it answers in words before any tuning,
 * that its build is deterministic, and that a current build is not redone.
 */

let python: string;
let gguf: string;
let model: StandInModel;
let scratch: string;

beforeAll(async () => {
  ({ python } = await workerReady());
  const file = await ensureLocalModel('smollm2-135m-instruct-q4_1');
  if (!file.ok) throw new Error(file.error.message);
  gguf = file.value;
  const built = await ensureStandInModel(python, DEMO_STAND_IN_NAME);
  if (!built.ok) throw new Error(built.error.message);
  model = built.value;
  scratch = await mkdtemp(join(tmpdir(), 'dermatune-demo-standin-'));
}, 900_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the demo stand-in', () => {
  it('names itself a stand-in, with random vision weights, under the digest of its builder and weights', async () => {
    const marker = JSON.parse(await readFile(join(model.path, 'stand-in.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(marker).toMatchObject({
      name: DEMO_STAND_IN_NAME,
      vision_weights: 'random',
      builder_digest: await standInBuilderDigest(DEMO_STAND_IN_NAME),
    });
    expect(String(marker.note)).toMatch(/stand-in/);
    expect(await readFile(join(model.path, 'README.md'), 'utf8')).toMatch(/stand-in, NOT SmolVLM/);
  });

  it("carries SmolLM2-135M-Instruct's dequantised weights and tokenizer, plus SmolVLM's image tokens", async () => {
    const report = await check(model.path);
    expect(report).toMatchObject({
      architecture: 'Idefics3ForConditionalGeneration',
      text_layers: 30,
      hidden_size: 576,
      gguf_vocab: 49152,
      down_proj_equals_gguf: true,
      embeddings_equal_gguf: true,
      tokenizer_keeps_smollm2_ids: true,
      // One 384 px tile of 6 x 6 patches, pixel-shuffled by 3.
      image_tokens_in_prompt: 4,
    });
    // SmolVLM's layout tokens and 36 row/column tokens on top of SmolLM2's vocabulary.
    expect(report.vocab).toBe(49152 + 3 + 1 + 36);
    expect(report.prompt).toBe(
      '<|im_start|>user\n<image>What is impetigo?<|im_end|>\n<|im_start|>assistant\n',
    );
    // Untuned, it already answers in words (the demo's baseline), unlike the random tiny one.
    const words = String(report.answer).match(/[A-Za-z]{3,}/g) ?? [];
    expect(words.length, String(report.answer)).toBeGreaterThanOrEqual(5);
  }, 300_000);

  it('is current after one build: a second call starts no Python and builds nothing', async () => {
    const again = await ensureStandInModel('/nonexistent/python', DEMO_STAND_IN_NAME);
    expect(again).toEqual({ ok: true, value: { ...model, built: false } });
  });

  it('builds the same weights byte for byte a second time', async () => {
    const other = await ensureStandInModel(python, DEMO_STAND_IN_NAME, scratch);
    if (!other.ok) throw new Error(other.error.message);
    expect(other.value.built).toBe(true);
    expect(await fileDigest(join(other.value.path, 'model.safetensors'))).toBe(
      await fileDigest(join(model.path, 'model.safetensors')),
    );
  }, 600_000);
});

async function check(modelDir: string): Promise<Record<string, unknown>> {
  const script = join(import.meta.dirname, 'standin_check.py');
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = spawn(python, [script, modelDir, gguf], {
      cwd: WORKER_DIR,
      env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-4000);
    });
    child.on('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
