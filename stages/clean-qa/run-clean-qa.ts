import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { cleanQaFolder } from './clean-qa.ts';
import { CLEAN_QA_OUTPUT, type CleanQaContext } from './contract.ts';

export async function runCleanQa(ctx: CleanQaContext): Promise<Result<StageSummary, StageFailure>> {
  const threshold = ctx.params.data.near_duplicate_threshold;
  const result = await cleanQaFolder(ctx.inputs.qa.dir, ctx.outDir, threshold);
  if (!result.ok) return fail({ reason: 'invalid-input', message: result.error.message });
  const stats = result.value;
  const metrics: Record<string, number> = {
    'clean-qa/input': stats.input,
    'clean-qa/kept': stats.kept,
    'clean-qa/images': stats.images,
  };
  for (const [reason, count] of Object.entries(stats.dropped)) {
    metrics[`clean-qa/dropped/${reason}`] = count ?? 0;
  }
  return ok({
    metrics,
    stats: { ...stats },
    artifacts: [CLEAN_QA_OUTPUT.stats, CLEAN_QA_OUTPUT.dropped],
  });
}
