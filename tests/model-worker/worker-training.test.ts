import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type {
  ItemMemo,
  StageContext,
  StageInputOutput,
  StageReport,
} from '../../runner/stage-kind.ts';
import { GENERATE_OUTPUT, type GenerateParams } from '../../stages/generate/contract.ts';
import { runGenerate } from '../../stages/generate/run-generate.ts';
import { TRAIN_OUTPUT, type TrainParams } from '../../stages/train/contract.ts';
import { runTrain } from '../../stages/train/run-train.ts';
import { makeWorkerFixture, type WorkerFixture, workerReady } from './worker-fixture.ts';

/**
 * The train and generate stages, run as the runner runs them (a stage context over upstream
 * output folders), through the real worker on the tiny stand-in model.
 */

let fixture: WorkerFixture;

beforeAll(async () => {
  await workerReady();
  fixture = await makeWorkerFixture();
  // A fresh clone creates the venv (torch, transformers, peft) here, possibly behind another installer.
}, 600_000);

/** Stage memo: unused by these stages, required by the context. */
const noMemo: ItemMemo = {
  get: async () => undefined,
  put: async () => {},
};

function input(dir: string, kind: string): StageInputOutput {
  return { dir, key: `${kind}-key`, kind };
}

async function context<P>(
  name: string,
  params: P,
  inputs: Record<string, StageInputOutput>,
): Promise<{ ctx: StageContext<P>; reports: StageReport[] }> {
  const outDir = join(fixture.dir, name);
  await mkdir(outDir, { recursive: true });
  const reports: StageReport[] = [];
  const ctx: StageContext<P> = {
    params,
    inputs,
    outDir,
    key: `${name}-key`,
    signal: new AbortController().signal,
    memo: noMemo,
    logFile: join(fixture.dir, `${name}.log`),
    cacheDir: join(fixture.dir, 'cache'),
    report: (event) => reports.push(event),
  };
  return { ctx, reports };
}

const trainParams: TrainParams = {
  seed: 7,
  model: { base: 'tiny-smolvlm-standin', revision: '' },
  data: { supervision: 'qa' },
  train: {
    method: 'lora',
    lora: { rank: 8, alpha: 32, dropout: 0.1, target_modules: ['q_proj', 'v_proj'], scope: 'all' },
    epochs: 3,
    batch_size: 2,
    grad_accum: 1,
    learning_rate: 0.01,
    lr_scheduler: 'linear',
    warmup_ratio: 0,
    weight_decay: 0,
    max_grad_norm: 1,
    max_seq_length: 512,
    image_size: 384,
    gradient_checkpointing: false,
    loss_on: 'assistant',
    device: 'auto',
    precision: 'auto',
    checkpoint_every: 50,
  },
};

const generateParams: GenerateParams = {
  model: { base: 'tiny-smolvlm-standin', revision: '' },
  generate: {
    max_new_tokens: 8,
    image_size: 384,
    batch_size: 3,
    repetition_penalty: 1,
    no_repeat_ngram_size: 0,
    do_sample: false,
    temperature: 1,
    top_p: 1,
    device: 'auto',
    precision: 'auto',
  },
};

async function predictions(dir: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(dir, GENERATE_OUTPUT.predictions), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('train and generate stages on the tiny stand-in', () => {
  it('train: the loss falls step by step and a LoRA adapter is written', {
    timeout: 300_000,
  }, async () => {
    const { ctx, reports } = await context('train', trainParams, {
      train_set: input(dirname(fixture.trainFile), 'subset'),
      images: input(fixture.imageRoot, 'curate'),
    });
    const trained = await runTrain(ctx);
    expect(trained.ok, JSON.stringify(trained)).toBe(true);

    const losses = reports.filter(
      (r): r is Extract<StageReport, { type: 'metric' }> =>
        r.type === 'metric' && r.name === 'train/loss',
    );
    // 12 QA pairs, batch 2, no accumulation, 3 epochs: 18 optimizer steps, one loss each.
    expect(losses.map((r) => r.step)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    const mean = (xs: typeof losses) => xs.reduce((s, r) => s + r.value, 0) / xs.length;
    expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)) - 0.5);
    const rates = reports.filter((r) => r.type === 'metric' && r.name === 'train/learning_rate');
    expect(rates[0]).toMatchObject({ value: 0.01, step: 1 });
    expect((rates[17] as { value: number }).value).toBeCloseTo(0.01 / 18, 8);
    for (const name of ['train/grad_norm', 'train/tokens_per_second']) {
      const values = reports.filter((r) => r.type === 'metric' && r.name === name);
      expect(values, name).toHaveLength(18);
      for (const v of values) expect((v as { value: number }).value, name).toBeGreaterThan(0);
    }
    expect(reports.filter((r) => r.type === 'progress' && r.unit === 'step').at(-1)).toMatchObject({
      done: 18,
      total: 18,
    });

    const config = JSON.parse(
      await readFile(join(ctx.outDir, TRAIN_OUTPUT.adapterConfig), 'utf8'),
    ) as Record<string, unknown>;
    expect(config).toMatchObject({ r: 8, lora_alpha: 32, lora_dropout: 0.1 });
    expect([...(config.target_modules as string[])].sort()).toEqual(['q_proj', 'v_proj']);
    // The adapter names its base as the job did (here the stand-in's name and the spec's
    // revision), not the folder it was loaded from on this machine: it loads elsewhere.
    expect(config.base_model_name_or_path).toBe(trainParams.model.base);
    expect(config.revision).toBeNull(); // this spec names no revision
    const weights = await stat(join(ctx.outDir, TRAIN_OUTPUT.adapterWeights));
    expect(weights.size).toBeGreaterThan(0);
    expect(
      (await readFile(join(ctx.outDir, TRAIN_OUTPUT.trainerLog), 'utf8')).trim().split('\n'),
    ).toHaveLength(18);
    const job = JSON.parse(await readFile(join(ctx.outDir, TRAIN_OUTPUT.job), 'utf8')) as {
      train: unknown;
    };
    expect(job.train).toMatchObject({ loss_on: 'assistant', lora: { rank: 8, alpha: 32 } });

    // generate: the same questions with and without the adapter; the adapter loads and changes answers.
    const tuned = await context('generate-tuned', generateParams, {
      test_set: input(dirname(fixture.testFile), 'split'),
      images: input(fixture.imageRoot, 'curate'),
      adapter: input(ctx.outDir, 'train'),
    });
    const base = await context('generate-base', generateParams, {
      test_set: input(dirname(fixture.testFile), 'split'),
      images: input(fixture.imageRoot, 'curate'),
    });
    const tunedRun = await runGenerate(tuned.ctx);
    const baseRun = await runGenerate(base.ctx);
    expect(tunedRun.ok && baseRun.ok, JSON.stringify([tunedRun, baseRun])).toBe(true);
    const tunedLines = await predictions(tuned.ctx.outDir);
    const baseLines = await predictions(base.ctx.outDir);
    expect(baseLines.map((p) => p.id)).toEqual([
      'PMC000_F1:q0',
      'PMC001_F1:q0',
      'PMC002_F1:q0',
      'PMC003_F1:q0',
    ]);
    expect(tunedLines.map((p) => p.id)).toEqual(baseLines.map((p) => p.id));
    for (const line of tunedLines) {
      expect(line.prediction).toBeTypeOf('string');
      expect(line.reference).toBe(line.answer);
      expect(line.timing).toMatchObject({
        batch_size: expect.any(Number),
        new_tokens: expect.any(Number),
      });
    }
    expect(tunedLines.map((p) => p.prediction)).not.toEqual(baseLines.map((p) => p.prediction));
    expect(tuned.reports.filter((r) => r.type === 'progress').at(-1)).toMatchObject({
      done: 4,
      total: 4,
    });
  });
});
