import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import { pickBySchema } from '../../runner/spec-schema.ts';
import type { StageFailure } from '../../runner/stage-kind.ts';
import type { GenerateParams } from '../generate/contract.ts';
import { GENERATE_OUTPUT } from '../generate/contract.ts';
import { TRAIN_OUTPUT, type TrainParams } from '../train/contract.ts';
import { jobSectionSchema } from './job-schema.ts';
import { downloadsAllowed } from './model-ref.ts';
import type { MemoryEstimateRequest } from './worker-doctor.ts';
import type { GenerateJob, GenerateSettings, TrainJob, TrainSettings } from './worker-job.ts';

/**
 * The one projection of a stage's params onto a worker job. Every caller that hands the worker
 * settings builds them here: the train and generate stages (here and as Ray jobs), `doctor`'s
 * and preflight's memory estimates. Which settings a job carries is the job schema's business
 * (job-schema.ts: the spec section less what it marks `x-not-in-job`), not the caller's.
 */

/** Where a job reads and writes; the stage (local or remote) decides the folders. */
export interface JobPaths {
  /** The records file (subset's train.jsonl, split's test.jsonl). */
  records: string;
  /** Where the records' relative image paths resolve (curate's folder). */
  imageRoot: string;
  outDir: string;
  modelsDir: string;
  resumeDir: string | undefined;
}

export function trainJob(params: TrainParams, paths: JobPaths): Result<TrainJob, StageFailure> {
  const { train, model } = params;
  if (train.method === 'none') {
    return fail({
      reason: 'invalid-input',
      message:
        'train.method is none: the baseline generates with model.base and has no train stage',
    });
  }
  return ok({
    type: 'train',
    output_dir: paths.outDir,
    checkpoint_dir: paths.resumeDir ?? null,
    models_dir: paths.modelsDir,
    allow_download: downloadsAllowed(),
    // train.seed, when set, seeds this run alone (a replicate axis); the data stages read `seed`.
    seed: train.seed ?? params.seed,
    model: { base: model.base, revision: model.revision || null },
    data: { train: paths.records, image_root: paths.imageRoot },
    supervision: params.data.supervision,
    train: trainJobSettings(train),
    outputs: TRAIN_OUTPUT,
  });
}

export function generateJob(
  params: GenerateParams,
  paths: JobPaths & { adapterDir: string | undefined },
): GenerateJob {
  const { model } = params;
  return {
    type: 'generate',
    output_dir: paths.outDir,
    checkpoint_dir: paths.resumeDir ?? null,
    models_dir: paths.modelsDir,
    allow_download: downloadsAllowed(),
    model: {
      base: model.base,
      revision: model.revision || null,
      adapter: paths.adapterDir === undefined ? null : join(paths.adapterDir, TRAIN_OUTPUT.adapter),
    },
    data: { test: paths.records, image_root: paths.imageRoot },
    generate: generateJobSettings(params.generate),
    outputs: GENERATE_OUTPUT,
  };
}

/** A training's memory question for the worker's doctor (`doctor` and preflight ask it). */
export function memoryEstimateRequest(name: string, params: TrainParams): MemoryEstimateRequest {
  return {
    name,
    model: { base: params.model.base, revision: params.model.revision || null },
    train: trainJobSettings(params.train),
  };
}

/** The spec's `train` section as the job's: exactly the settings the job schema declares. */
export function trainJobSettings(train: object): TrainSettings {
  return pickBySchema(train, jobSectionSchema('train')) as TrainSettings;
}

export function generateJobSettings(generate: object): GenerateSettings {
  return pickBySchema(generate, jobSectionSchema('generate')) as GenerateSettings;
}
