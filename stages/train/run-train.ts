import { join } from 'node:path';
import type { PreflightCheck } from '../../runner/preflight-check.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { trainMemoryChecks } from '../model-worker/memory-checks.ts';
import { downloadsAllowed } from '../model-worker/model-ref.ts';
import type { TrainJob, WorkerDone } from '../model-worker/worker-job.ts';
import {
  type WorkerStagePaths,
  workerLocalRun,
  workerRemoteStage,
} from '../model-worker/worker-stage.ts';
import { SUBSET_OUTPUT } from '../subset/contract.ts';
import { TRAIN_OUTPUT, type TrainParams, type trainContract } from './contract.ts';

/**
 * The train stage: subset's `train.jsonl` (images relative to curate's folder) through the
 * model worker; the adapter, the resolved job and the trainer log land in the stage's output.
 * The same job runs here (`runTrain`) or as a Ray job (`trainRemote`).
 */
const trainWorker = {
  job: ({ params, inputs, outDir, modelsDir, resumeDir }: TrainPaths) =>
    trainJob(params, inputs, outDir, modelsDir, resumeDir),
  summarize: trainSummary,
};

export const runTrain = workerLocalRun(trainWorker);
export const trainRemote = workerRemoteStage(trainWorker);

type TrainPaths = WorkerStagePaths<TrainParams, (typeof trainContract.inputs)[number], never>;

function trainJob(
  params: TrainParams,
  inputs: TrainPaths['inputs'],
  outDir: string,
  models: string,
  resumeDir: string | undefined,
): Result<TrainJob, StageFailure> {
  const { train, model } = params;
  if (train.method === 'none') {
    return fail({
      reason: 'invalid-input',
      message:
        'train.method is none: the baseline generates with model.base and has no train stage',
    });
  }
  const { train_set: trainSet, images } = inputs;
  // train.seed, when set, seeds this run alone (a replicate axis); the data stages read `seed`.
  const { method: _method, seed: trainSeed, ...settings } = train;
  return ok({
    type: 'train',
    output_dir: outDir,
    checkpoint_dir: resumeDir ?? null,
    models_dir: models,
    allow_download: downloadsAllowed(),
    seed: trainSeed ?? params.seed,
    model: { base: model.base, revision: model.revision || null },
    data: { train: join(trainSet.dir, SUBSET_OUTPUT.train), image_root: images.dir },
    supervision: params.data.supervision,
    train: settings,
    outputs: TRAIN_OUTPUT,
  });
}

/**
 * A job that asks for CUDA is checked against the GPU memory here before anything runs (the
 * worker estimates it; nine variants with one setting share one estimate).
 */
const estimates = new Map<string, Promise<PreflightCheck[]>>();

export function trainMemoryPreflight(params: TrainParams): Promise<PreflightCheck[]> {
  const { method: _method, ...settings } = params.train;
  if (params.train.method === 'none' || params.train.device !== 'cuda') return Promise.resolve([]);
  const request = {
    name: 'train',
    model: { base: params.model.base, revision: params.model.revision || null },
    train: settings,
  };
  const id = JSON.stringify(request);
  let pending = estimates.get(id);
  if (!pending) {
    pending = trainMemoryChecks([request]);
    estimates.set(id, pending);
  }
  return pending;
}

function trainSummary(done: WorkerDone): StageSummary {
  const summary = done.summary as {
    final_loss?: number | null;
    tokens_per_second?: number;
    steps?: number;
    train_seconds?: number;
  };
  const metrics: Record<string, number> = {};
  if (typeof summary.final_loss === 'number') metrics['train/final_loss'] = summary.final_loss;
  if (typeof summary.tokens_per_second === 'number') {
    metrics['train/mean_tokens_per_second'] = summary.tokens_per_second;
  }
  if (typeof summary.train_seconds === 'number') metrics['train/seconds'] = summary.train_seconds;
  return {
    metrics,
    artifacts: [
      TRAIN_OUTPUT.adapterWeights,
      TRAIN_OUTPUT.adapterConfig,
      TRAIN_OUTPUT.job,
      TRAIN_OUTPUT.trainerLog,
      TRAIN_OUTPUT.summary,
    ],
    stats: done.summary,
  };
}
