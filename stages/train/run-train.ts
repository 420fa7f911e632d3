import { join } from 'node:path';
import type { PreflightCheck } from '../../runner/preflight-check.ts';
import type { StageSummary } from '../../runner/stage-kind.ts';
import { memoryEstimateRequest, trainJob } from '../model-worker/job-builder.ts';
import { trainMemoryChecks } from '../model-worker/memory-checks.ts';
import type { WorkerDone } from '../model-worker/worker-job.ts';
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
    trainJob(params, {
      records: join(inputs.train_set.dir, SUBSET_OUTPUT.train),
      imageRoot: inputs.images.dir,
      outDir,
      modelsDir,
      resumeDir,
    }),
  summarize: trainSummary,
};

export const runTrain = workerLocalRun(trainWorker);
export const trainRemote = workerRemoteStage(trainWorker);

type TrainPaths = WorkerStagePaths<TrainParams, (typeof trainContract.inputs)[number], never>;

/**
 * A job that asks for CUDA is checked against the GPU memory here before anything runs (the
 * worker estimates it; nine variants with one setting share one estimate).
 */
const estimates = new Map<string, Promise<PreflightCheck[]>>();

export function trainMemoryPreflight(params: TrainParams): Promise<PreflightCheck[]> {
  if (params.train.method === 'none' || params.train.device !== 'cuda') return Promise.resolve([]);
  const request = memoryEstimateRequest('train', params);
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
