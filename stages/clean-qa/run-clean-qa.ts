import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { CLEAN_QA_OUTPUT, cleanQaFolder } from './clean-qa.ts';

export interface CleanQaRunParams {
  data: { near_duplicate_threshold?: number };
}

export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.9;

export async function runCleanQa(
  ctx: StageContext<CleanQaRunParams>,
): Promise<Result<StageSummary, StageFailure>> {
  const qa = ctx.inputs.qa;
  if (!qa) return fail({ reason: 'invalid-input', message: 'clean-qa needs its qa input' });
  const threshold = ctx.params.data.near_duplicate_threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
  const result = await cleanQaFolder(qa.dir, ctx.outDir, threshold);
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
