import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { SELECT_OUTPUT, selectFromFolders } from './select.ts';

export interface SelectRunParams {
  data: { categories?: (string | number)[] };
}

export async function runSelect(
  ctx: StageContext<SelectRunParams>,
): Promise<Result<StageSummary, StageFailure>> {
  const records = ctx.inputs.records;
  const annotations = ctx.inputs.annotations;
  if (!records || !annotations) {
    return fail({
      reason: 'invalid-input',
      message: 'select needs its records and annotations inputs',
    });
  }
  const result = await selectFromFolders(
    records.dir,
    annotations.dir,
    ctx.outDir,
    ctx.params.data.categories ?? ['Bacterial Infections'],
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
