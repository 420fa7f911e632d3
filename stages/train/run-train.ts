import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { downloadsAllowed, prepareWorker } from '../model-worker/model-ref.ts';
import { runWorkerForStage } from '../model-worker/stage-reports.ts';
import { modelsDir } from '../model-worker/stand-in-model.ts';
import type { TrainJob } from '../model-worker/worker-job.ts';
import type { TrainParams } from './kind.ts';

/**
 * The train stage: subset's `train.jsonl` (images relative to curate's folder) through the
 * model worker; the adapter, the resolved job and the trainer log land in the stage's output.
 */
export async function runTrain(
  ctx: StageContext<TrainParams>,
): Promise<Result<StageSummary, StageFailure>> {
  const { train, model } = ctx.params;
  if (train.method === 'none') {
    return fail({
      reason: 'invalid-input',
      message:
        'train.method is none: the baseline generates with model.base and has no train stage',
    });
  }
  const trainSet = ctx.inputs.train_set;
  const images = ctx.inputs.images;
  if (trainSet === undefined || images === undefined) {
    return fail({
      reason: 'invalid-input',
      message: 'train needs the train_set and images inputs',
    });
  }
  const ready = await prepareWorker(model.base);
  if (!ready.ok) return ready;

  const { method: _method, ...settings } = train;
  const job: TrainJob = {
    type: 'train',
    output_dir: ctx.outDir,
    models_dir: modelsDir(),
    allow_download: downloadsAllowed(),
    seed: ctx.params.seed,
    model: { base: model.base, revision: model.revision || null },
    data: { train: join(trainSet.dir, 'train.jsonl'), image_root: images.dir },
    supervision: ctx.params.data.supervision ?? 'qa',
    train: settings,
  };
  const result = await runWorkerForStage(ctx, job, ready.value.python);
  if (!result.ok) return result;
  const summary = result.value.summary as {
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
  return ok({
    metrics,
    artifacts: [
      'adapter/adapter_model.safetensors',
      'adapter/adapter_config.json',
      'job.json',
      'trainer-log.jsonl',
      'train-summary.json',
    ],
    stats: result.value.summary,
  });
}
