import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { CURATE_OUTPUT } from '../curate/contract.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { type AnnotateKeywordsContext, annotateKeywordsContract } from './contract.ts';
import { labelByKeywords } from './keyword-labeller.ts';

export async function runAnnotateKeywords(
  ctx: AnnotateKeywordsContext,
): Promise<Result<StageSummary, StageFailure>> {
  const lines = await readJsonlLines(join(ctx.inputs.records.dir, CURATE_OUTPUT.records));
  if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
  const rows = lines.value.map((line) => labelByKeywords(line.value as CuratedRecord));
  await writeJsonl(join(ctx.outDir, annotateKeywordsContract.outputs.annotations), rows);
  const byCategory: Record<string, number> = {};
  for (const row of rows) {
    const label = `${row.category_number} ${row.category_name}`;
    byCategory[label] = (byCategory[label] ?? 0) + 1;
  }
  return ok({ metrics: { 'annotate/records': rows.length }, stats: { by_category: byCategory } });
}
