import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { SUBSET_OUTPUT, type SubsetContext } from './contract.ts';
import { subsetFolder } from './nested-subset.ts';

export async function runSubset(ctx: SubsetContext): Promise<Result<StageSummary, StageFailure>> {
  const result = await subsetFolder(
    ctx.inputs.split.dir,
    ctx.outDir,
    ctx.params.data.train_size,
    ctx.params.seed,
  );
  if (!result.ok) {
    return fail({ reason: 'invalid-input', message: result.error.message, details: result.error });
  }
  const stats = result.value;
  return ok({
    metrics: { 'subset/images': stats.images, 'subset/qa': stats.qa },
    stats: { ...stats },
    artifacts: [SUBSET_OUTPUT.stats],
  });
}
