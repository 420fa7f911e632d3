import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { downloadsAllowed } from '../model-worker/model-ref.ts';
import type { GenerateJob, WorkerDone } from '../model-worker/worker-job.ts';
import {
  type WorkerStagePaths,
  workerLocalRun,
  workerRemoteStage,
} from '../model-worker/worker-stage.ts';
import { SPLIT_OUTPUT } from '../split/contract.ts';
import { TRAIN_OUTPUT } from '../train/contract.ts';
import { GENERATE_OUTPUT, type GenerateParams, type generateContract } from './contract.ts';

/**
 * The generate stage: split's `test.jsonl` through the model worker, with train's adapter when
 * the variant was fine-tuned and with `model.base` alone for the untuned baseline (the same
 * code path). Writes `predictions.jsonl` with `id`, `prediction`, `reference` and timing.
 * The same job runs here (`runGenerate`) or as a Ray job (`generateRemote`).
 */
const generateWorker = {
  job: ({ params, inputs, outDir, modelsDir, resumeDir }: GeneratePaths) =>
    generateJob(params, inputs, outDir, modelsDir, resumeDir),
  summarize: generateSummary,
  check: checkPredictions,
};

/**
 * A model that answers nothing for every item (a broken adapter, a wrong chat template) is a
 * failure, not a result: stored, it would be scored and reported as the variant's numbers.
 */
export async function checkPredictions(outDir: string): Promise<StageFailure | undefined> {
  const file = join(outDir, GENERATE_OUTPUT.predictions);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    return { reason: 'worker-error', message: 'the worker wrote no predictions.jsonl' };
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const answered = lines.filter((line) => {
    try {
      const row = JSON.parse(line) as { prediction?: unknown };
      return typeof row.prediction === 'string' && row.prediction.trim() !== '';
    } catch {
      return false;
    }
  }).length;
  if (lines.length > 0 && answered > 0) return undefined;
  return {
    reason: 'worker-error',
    message: `every one of the ${lines.length} predictions is empty; the model (or its adapter) generates nothing, so nothing is stored`,
  };
}

export const runGenerate = workerLocalRun(generateWorker);
export const generateRemote = workerRemoteStage(generateWorker);

type GeneratePaths = WorkerStagePaths<
  GenerateParams,
  (typeof generateContract.inputs)[number],
  (typeof generateContract.optionalInputs)[number]
>;

function generateJob(
  params: GenerateParams,
  inputs: GeneratePaths['inputs'],
  outDir: string,
  models: string,
  resumeDir: string | undefined,
): Result<GenerateJob, StageFailure> {
  const { test_set: testSet, images, adapter } = inputs;
  const { model } = params;
  return ok({
    type: 'generate',
    output_dir: outDir,
    checkpoint_dir: resumeDir ?? null,
    models_dir: models,
    allow_download: downloadsAllowed(),
    model: {
      base: model.base,
      revision: model.revision || null,
      adapter: adapter === undefined ? null : join(adapter.dir, TRAIN_OUTPUT.adapter),
    },
    data: { test: join(testSet.dir, SPLIT_OUTPUT.test), image_root: images.dir },
    generate: params.generate,
    outputs: GENERATE_OUTPUT,
  });
}

function generateSummary(done: WorkerDone): StageSummary {
  const summary = done.summary as { new_tokens_per_second?: number; seconds?: number };
  const metrics: Record<string, number> = {};
  if (typeof summary.new_tokens_per_second === 'number') {
    metrics['generate/new_tokens_per_second'] = summary.new_tokens_per_second;
  }
  if (typeof summary.seconds === 'number') metrics['generate/seconds'] = summary.seconds;
  return {
    metrics,
    artifacts: [GENERATE_OUTPUT.predictions, GENERATE_OUTPUT.job],
    stats: done.summary,
  };
}
