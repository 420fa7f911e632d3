import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultTrainSettings } from '../../stages/model-worker/spec-defaults.ts';
import {
  runWorker,
  streamWorker,
  toStageFailure,
} from '../../stages/model-worker/worker-client.ts';
import type { TrainJob, WorkerEvent } from '../../stages/model-worker/worker-job.ts';
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

function trainJob(name: string, overrides: Partial<TrainJob> = {}): TrainJob {
  return {
    type: 'train',
    outputs: TRAIN_OUTPUT,
    output_dir: join(fixture.dir, name),
    models_dir: models,
    model: { base: 'tiny-smolvlm-standin' },
    data: { train: fixture.trainFile, image_root: fixture.imageRoot },
    supervision: 'qa',
    train: defaultTrainSettings({ epochs: 1, image_size: 384 }),
    ...overrides,
  };
}

describe('model worker errors arrive as typed events, tracebacks stay in the log', () => {
  it('a model that is nowhere: model-not-found, and a missing-model stage failure', async () => {
    const logFile = join(fixture.dir, 'missing-model.log');
    const events: WorkerEvent[] = [];
    const result = await runWorker(
      trainJob('missing-model', {
        model: { base: 'HuggingFaceTB/SmolVLM-Base' },
        allow_download: false,
      }),
      { python, logFile, onEvent: (e) => events.push(e) },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.reason).toBe('model-not-found');
    expect(result.error.message).toContain('HuggingFaceTB/SmolVLM-Base');
    expect(toStageFailure(result.error).reason).toBe('missing-model');
    expect(events.at(-1)).toMatchObject({ event: 'error', kind: 'model-not-found' });
    // The traceback went to the log, not into the event stream.
    expect(await readFile(logFile, 'utf8')).toContain('Traceback (most recent call last)');

    const path = await runWorker(trainJob('missing-path', { model: { base: '/nowhere/model' } }), {
      python,
      logFile,
    });
    expect(path.ok ? 'ok' : path.error.reason).toBe('model-not-found');
  });

  it('an unreadable image: bad-image naming the file', async () => {
    const broken = join(fixture.imageRoot, 'images', 'broken.jpg');
    await writeFile(broken, Buffer.from('this is not a JPEG'));
    const data = join(fixture.dir, 'broken.jsonl');
    await writeFile(
      data,
      `${JSON.stringify({ image: 'images/broken.jpg', question: 'What is this?', answer: 'Nothing.' })}\n`,
    );
    const result = await runWorker(
      trainJob('bad-image', { data: { train: data, image_root: fixture.imageRoot } }),
      {
        python,
        logFile: join(fixture.dir, 'bad-image.log'),
      },
    );
    expect(result.ok ? 'ok' : result.error.reason).toBe('bad-image');
    if (!result.ok) expect(result.error.message).toContain('broken.jpg');
  });

  it("invalid jobs: bad-job with the setting's path and the rule it broke, exit 2, no traceback", async () => {
    const cases: Array<[unknown, string]> = [
      [
        trainJob('neg-rank', { train: defaultTrainSettings({ lora: { rank: -1 } }) }),
        'train.lora.rank: -1 is less than the minimum of 1 (rule: minimum)',
      ],
      [
        trainJob('scheduler', {
          train: defaultTrainSettings({ lr_scheduler: 'cosine_restarts' as never }),
        }),
        'train.lr_scheduler: ',
      ],
      [trainJob('no-data', { data: { train: join(fixture.dir, 'nope.jsonl') } }), 'data.train'],
      [{ ...trainJob('unknown'), train: { epocs: 2 } }, "'epocs' was unexpected"],
      // No second defaults in the worker: a setting the runner did not send is refused.
      [
        { ...trainJob('missing'), train: withoutKey(defaultTrainSettings(), 'weight_decay') },
        "train: 'weight_decay' is a required property (rule: required)",
      ],
      [
        {
          ...trainJob('missing-scope'),
          train: {
            ...defaultTrainSettings(),
            lora: withoutKey(defaultTrainSettings().lora, 'scope'),
          },
        },
        "train.lora: 'scope' is a required property",
      ],
      // The runner-only settings never reach the worker (job-builder.ts); sent by hand, refused.
      [
        { ...trainJob('runner-only'), train: { ...defaultTrainSettings(), seed: 3 } },
        "'seed' was unexpected",
      ],
      [{ ...trainJob('kind'), type: 'fine-tune' }, 'type'],
      // Nor its own file names: the job names what it writes, from the stage's contract.
      [{ ...trainJob('no-outputs'), outputs: undefined }, "'outputs' is a required property"],
      [
        { ...trainJob('lacks-output'), outputs: withoutKey({ ...TRAIN_OUTPUT }, 'trainerLog') },
        "outputs: 'trainerLog' is a required property",
      ],
      [
        trainJob('escaping-output', {
          outputs: { ...TRAIN_OUTPUT, summary: '../summary.json' as never },
        }),
        'outputs.summary',
      ],
      [trainJob('supervision', { supervision: 'captions' as never }), 'supervision'],
    ];
    for (const [job, mention] of cases) {
      const result = await runWorker(job as TrainJob, {
        python,
        logFile: join(fixture.dir, 'bad-job.log'),
      });
      expect(result.ok ? 'ok' : result.error.reason, mention).toBe('bad-job');
      if (!result.ok) expect(result.error.message).toContain(mention);
    }
    const log = await readFile(join(fixture.dir, 'bad-job.log'), 'utf8');
    expect(log).toContain('bad job: train.lora.rank');
    expect(log).not.toContain('Traceback');
  });

  it('an abort stops training with SIGTERM: cancelled, no adapter written', async () => {
    const controller = new AbortController();
    // Caption supervision here, so a caption example goes through a real optimizer step too.
    const job = trainJob('cancelled', {
      supervision: 'caption',
      train: defaultTrainSettings({ epochs: 50, image_size: 384 }),
    });
    const result = await runWorker(job, {
      python,
      logFile: join(fixture.dir, 'cancelled.log'),
      signal: controller.signal,
      onEvent: (event) => {
        if (event.event === 'metric') controller.abort();
      },
    });
    expect(result.ok ? 'ok' : result.error.reason).toBe('cancelled');
    expect(existsSync(join(job.output_dir, 'adapter'))).toBe(false);
  });

  it('doctor reports Python, torch, CUDA and the local stand-in model', async () => {
    const { events, result: pending } = streamWorker(
      { type: 'doctor', models_dir: models },
      { python, logFile: join(fixture.dir, 'doctor.log') },
    );
    const seen: string[] = [];
    for await (const event of events) seen.push(event.event);
    const result = await pending;
    expect(seen).toEqual(['done']);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const report = result.value.summary as {
      python: { version: string };
      packages: Record<string, string>;
      cuda: { available: boolean };
      models: Array<{ name: string; stand_in_for?: string }>;
    };
    expect(report.python.version).toMatch(/^3\.\d+\.\d+$/);
    expect(report.packages.torch).toMatch(/^2\.13\.0/);
    expect(report.packages.peft).toBe('0.21.2');
    expect(typeof report.cuda.available).toBe('boolean');
    expect(report.models).toContainEqual(
      expect.objectContaining({
        name: 'tiny-smolvlm-standin',
        stand_in_for: 'HuggingFaceTB/SmolVLM-Base',
      }),
    );
  });
});

function withoutKey<T extends object>(value: T, key: keyof T): Omit<T, typeof key> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}
