import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultTrainSettings } from '../../stages/model-worker/spec-defaults.ts';
import { runWorker } from '../../stages/model-worker/worker-client.ts';
import type { TrainMetric } from '../../stages/model-worker/worker-job.ts';
import { TRAIN_OUTPUT } from '../../stages/train/contract.ts';
import { makeWorkerFixture, type WorkerFixture, workerReady } from './worker-fixture.ts';

let fixture: WorkerFixture;
let python: string;
let models: string;

beforeAll(async () => {
  ({ python, modelsDir: models } = await workerReady());
  fixture = await makeWorkerFixture();
  // A fresh clone creates the venv (torch, transformers, peft) here, possibly behind another installer.
}, 600_000);

/** Trains 4 optimizer steps (with LoRA dropout active) and returns the losses and adapter bytes. */
async function train(name: string, seed: number): Promise<{ losses: number[]; adapter: Buffer }> {
  const out = join(fixture.dir, name);
  const losses: number[] = [];
  const result = await runWorker(
    {
      type: 'train',
      outputs: TRAIN_OUTPUT,
      output_dir: out,
      models_dir: models,
      model: { base: 'tiny-smolvlm-standin' },
      data: { train: fixture.trainFile, image_root: fixture.imageRoot },
      supervision: 'qa_caption',
      seed,
      train: defaultTrainSettings({
        batch_size: 2,
        grad_accum: 2,
        learning_rate: 0.01,
        image_size: 384,
        max_steps: 4,
      }),
    },
    {
      python,
      logFile: join(fixture.dir, `${name}.log`),
      onEvent: (e) => {
        if (e.event === 'metric') losses.push((e as TrainMetric).loss ?? Number.NaN);
      },
    },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return { losses, adapter: await readFile(join(out, 'adapter', 'adapter_model.safetensors')) };
}

describe('training on the CPU under a fixed seed', () => {
  it('gives the same losses and the same adapter bytes twice, and other ones under another seed', {
    timeout: 300_000,
  }, async () => {
    const first = await train('seed-1-a', 1);
    const again = await train('seed-1-b', 1);
    const other = await train('seed-2', 2);
    expect(first.losses).toHaveLength(4);
    expect(again.losses).toEqual(first.losses);
    expect(again.adapter.equals(first.adapter)).toBe(true);
    expect(other.losses).not.toEqual(first.losses);
    expect(other.adapter.equals(first.adapter)).toBe(false);
  });
});
