import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { SPLIT_OUTPUT, type SplitContext } from './contract.ts';
import { splitFolder } from './split-by-article.ts';

export async function runSplit(ctx: SplitContext): Promise<Result<StageSummary, StageFailure>> {
  const result = await splitFolder(
    ctx.inputs.qa.dir,
    ctx.outDir,
    ctx.params.data.test_fraction,
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
