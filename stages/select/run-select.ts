import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { SELECT_OUTPUT, type SelectContext } from './contract.ts';
import { selectFromFolders } from './select.ts';

export async function runSelect(ctx: SelectContext): Promise<Result<StageSummary, StageFailure>> {
  const { records, annotations } = ctx.inputs;
  const result = await selectFromFolders(
    records.dir,
    annotations?.dir,
    ctx.outDir,
    ctx.params.data.categories,
  );
  if (!result.ok) return fail({ reason: 'invalid-input', message: result.error.message });
  const stats = result.value;
  const metrics: Record<string, number> = {
    'select/records': stats.records,
    'select/selected': stats.selected,
    'select/articles': stats.articles,
  };
  for (const [reason, count] of Object.entries(stats.dropped)) {
    metrics[`select/dropped/${reason}`] = count ?? 0;
  }
  return ok({ metrics, stats: { ...stats }, artifacts: [SELECT_OUTPUT.stats] });
}
