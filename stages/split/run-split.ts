import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { SPLIT_OUTPUT, splitFolder } from './split-by-article.ts';

export interface SplitRunParams {
  seed: number;
  data: { test_fraction?: number };
}

export async function runSplit(
  ctx: StageContext<SplitRunParams>,
): Promise<Result<StageSummary, StageFailure>> {
  const qa = ctx.inputs.qa;
  if (!qa) return fail({ reason: 'invalid-input', message: 'split needs its qa input' });
  const result = await splitFolder(
    qa.dir,
    ctx.outDir,
    ctx.params.data.test_fraction ?? 0.1,
    ctx.params.seed,
  );
  if (!result.ok) return fail({ reason: 'invalid-input', message: result.error.message });
  const stats = result.value;
  return ok({
    metrics: {
      'split/train_images': stats.images.train,
      'split/test_images': stats.images.test,
      'split/train_qa': stats.qa.train,
      'split/test_qa': stats.qa.test,
      'split/train_articles': stats.articles.train,
      'split/test_articles': stats.articles.test,
    },
    stats: { ...stats },
    artifacts: [SPLIT_OUTPUT.stats],
  });
}
