import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { generateJob } from '../model-worker/job-builder.ts';
import type { WorkerDone } from '../model-worker/worker-job.ts';
import {
  type WorkerStagePaths,
  workerLocalRun,
  workerRemoteStage,
} from '../model-worker/worker-stage.ts';
import { SPLIT_OUTPUT } from '../split/contract.ts';
import { GENERATE_OUTPUT, type GenerateParams, type generateContract } from './contract.ts';

/**
 * The generate stage: split's `test.jsonl` through the model worker, with train's adapter when
 * the variant was fine-tuned and with `model.base` alone for the untuned baseline (the same
 * code path). Writes `predictions.jsonl` with `id`, `prediction`, `reference` and timing.
 * The same job runs here (`runGenerate`) or as a Ray job (`generateRemote`).
 */
const generateWorker = {
  job: ({ params, inputs, outDir, modelsDir, resumeDir }: GeneratePaths) =>
    ok(
      generateJob(params, {
        records: join(inputs.test_set.dir, SPLIT_OUTPUT.test),
        imageRoot: inputs.images.dir,
        adapterDir: inputs.adapter?.dir,
        outDir,
        modelsDir,
        resumeDir,
      }),
    ),
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
