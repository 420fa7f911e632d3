import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { SUBSET_OUTPUT, subsetFolder } from './nested-subset.ts';

export interface SubsetRunParams {
  seed: number;
  data: { train_size?: number | 'all' };
}

export async function runSubset(
  ctx: StageContext<SubsetRunParams>,
): Promise<Result<StageSummary, StageFailure>> {
  const split = ctx.inputs.split;
  if (!split) return fail({ reason: 'invalid-input', message: 'subset needs its split input' });
  const result = await subsetFolder(
    split.dir,
    ctx.outDir,
    ctx.params.data.train_size ?? 'all',
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
