import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { downloadsAllowed, prepareWorker } from '../model-worker/model-ref.ts';
import { runWorkerForStage } from '../model-worker/stage-reports.ts';
import { modelsDir } from '../model-worker/stand-in-model.ts';
import type { GenerateJob } from '../model-worker/worker-job.ts';
import type { GenerateParams } from './kind.ts';

/**
 * The generate stage: split's `test.jsonl` through the model worker, with train's adapter when
 * the variant was fine-tuned and with `model.base` alone for the untuned baseline (the same
 * code path). Writes `predictions.jsonl` with `id`, `prediction`, `reference` and timing.
 */
export async function runGenerate(
  ctx: StageContext<GenerateParams>,
): Promise<Result<StageSummary, StageFailure>> {
  const testSet = ctx.inputs.test_set;
  const images = ctx.inputs.images;
  if (testSet === undefined || images === undefined) {
    return fail({
      reason: 'invalid-input',
      message: 'generate needs the test_set and images inputs',
    });
  }
  const { model } = ctx.params;
  const ready = await prepareWorker(model.base);
  if (!ready.ok) return ready;
  const adapter = ctx.inputs.adapter;
  const job: GenerateJob = {
    type: 'generate',
    output_dir: ctx.outDir,
    models_dir: modelsDir(),
    allow_download: downloadsAllowed(),
    model: {
      base: model.base,
      revision: model.revision || null,
      adapter: adapter === undefined ? null : join(adapter.dir, 'adapter'),
    },
    data: { test: join(testSet.dir, 'test.jsonl'), image_root: images.dir },
    generate: ctx.params.generate,
  };
  const result = await runWorkerForStage(ctx, job, ready.value.python);
  if (!result.ok) return result;
  const summary = result.value.summary as { new_tokens_per_second?: number; seconds?: number };
  const metrics: Record<string, number> = {};
  if (typeof summary.new_tokens_per_second === 'number') {
    metrics['generate/new_tokens_per_second'] = summary.new_tokens_per_second;
  }
  if (typeof summary.seconds === 'number') metrics['generate/seconds'] = summary.seconds;
  return ok({ metrics, artifacts: ['predictions.jsonl', 'job.json'], stats: result.value.summary });
}
