import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runWorker } from '../../stages/model-worker/worker-client.ts';
import type { TrainMetric, WorkerEvent } from '../../stages/model-worker/worker-job.ts';
import { makeWorkerFixture, type WorkerFixture, workerReady } from './worker-fixture.ts';

let fixture: WorkerFixture;
let python: string;
let models: string;

beforeAll(async () => {
  ({ python, modelsDir: models } = await workerReady());
  fixture = await makeWorkerFixture();
});

async function predictions(dir: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(dir, 'predictions.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('model worker, training and generation with the tiny stand-in', () => {
  it('trains a LoRA adapter whose loss falls, and the adapter changes the answers', {
    timeout: 300_000,
  }, async () => {
    const out = join(fixture.dir, 'train');
    const events: WorkerEvent[] = [];
    const trained = await runWorker(
      {
        type: 'train',
        output_dir: out,
        models_dir: models,
        model: { base: 'tiny-smolvlm' },
        data: { train: fixture.trainFile },
        supervision: 'qa',
        seed: 7,
        train: { epochs: 3, batch_size: 2, grad_accum: 1, learning_rate: 0.01, image_size: 64 },
      },
      { python, logFile: join(fixture.dir, 'train.log'), onEvent: (e) => events.push(e) },
    );
    expect(trained.ok, JSON.stringify(trained)).toBe(true);

    const started = events.find((e) => e.event === 'started');
    expect(started).toMatchObject({
      device: 'cpu',
      precision: 'fp32',
      examples: 12,
      total_steps: 18,
    });
    const metrics = events.filter((e): e is TrainMetric => e.event === 'metric');
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    for (const m of metrics) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.grad_norm).toBeGreaterThan(0);
      expect(m.tokens_per_second).toBeGreaterThan(0);
    }
    // Linear decay from the base rate, one value per optimizer step.
    expect(metrics[0]?.learning_rate).toBeCloseTo(0.01, 8);
    expect(metrics[17]?.learning_rate).toBeCloseTo(0.01 / 18, 8);
    const mean = (xs: TrainMetric[]) => xs.reduce((s, m) => s + (m.loss ?? 0), 0) / xs.length;
    const first = mean(metrics.slice(0, 3));
    const last = mean(metrics.slice(-3));
    expect(last).toBeLessThan(first - 0.5);

    const adapterConfig = JSON.parse(
      await readFile(join(out, 'adapter', 'adapter_config.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(adapterConfig).toMatchObject({ r: 8, lora_alpha: 32, lora_dropout: 0.1 });
    expect([...(adapterConfig.target_modules as string[])].sort()).toEqual(['q_proj', 'v_proj']);
    expect((await stat(join(out, 'adapter', 'adapter_model.safetensors'))).size).toBeGreaterThan(0);
    const log = (await readFile(join(out, 'trainer-log.jsonl'), 'utf8')).trim().split('\n');
    expect(log).toHaveLength(18);
    const job = JSON.parse(await readFile(join(out, 'job.json'), 'utf8')) as { train: unknown };
    expect(job.train).toMatchObject({ loss_on: 'assistant', lora: { rank: 8, alpha: 32 } });

    const generateJob = (outputDir: string, adapter: string | null) => ({
      type: 'generate' as const,
      output_dir: outputDir,
      models_dir: models,
      model: { base: 'tiny-smolvlm', adapter },
      data: { test: fixture.testFile },
      generate: { max_new_tokens: 8, batch_size: 3, image_size: 64 },
    });
    const baseDir = join(fixture.dir, 'generate-base');
    const tunedDir = join(fixture.dir, 'generate-tuned');
    const base = await runWorker(generateJob(baseDir, null), {
      python,
      logFile: join(fixture.dir, 'generate.log'),
    });
    const tuned = await runWorker(generateJob(tunedDir, join(out, 'adapter')), {
      python,
      logFile: join(fixture.dir, 'generate.log'),
    });
    expect(base.ok && tuned.ok, JSON.stringify([base, tuned])).toBe(true);
    const basePredictions = await predictions(baseDir);
    const tunedPredictions = await predictions(tunedDir);
    expect(basePredictions).toHaveLength(4);
    expect(tunedPredictions.map((p) => p.id)).toEqual(basePredictions.map((p) => p.id));
    for (const p of tunedPredictions) {
      expect(typeof p.prediction).toBe('string');
      expect(p.timing).toMatchObject({
        batch_size: expect.any(Number),
        new_tokens: expect.any(Number),
      });
      expect(p.question).toBeTypeOf('string'); // the record travels through with its fields
    }
    expect(tunedPredictions.map((p) => p.prediction)).not.toEqual(
      basePredictions.map((p) => p.prediction),
    );
  });
});
