import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { ContextOf, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { DISTRACTORS_OUTPUT } from '../distractors/contract.ts';
import { fillFromOtherAnswers, optionRow } from '../distractors/other-answers.ts';
import type { DistractorRow, TestQa } from '../distractors/run-distractors.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { SPLIT_OUTPUT } from '../split/contract.ts';
import type { distractorsFromAnswersContract } from './kind.ts';

export async function run(
  ctx: ContextOf<typeof distractorsFromAnswersContract>,
): Promise<Result<StageSummary, StageFailure>> {
  const lines = await readJsonlLines(join(ctx.inputs.split.dir, SPLIT_OUTPUT.test));
  if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
  const rows = lines.value.map((line) => line.value as TestQa);
  const count = ctx.params.eval.distractors;
  const done: DistractorRow[] = [];
  const short: string[] = [];
  for (const row of rows) {
    const filled = fillFromOtherAnswers(row, [], count, rows, ctx.params.seed);
    if (filled) done.push(optionRow(row, filled, count, ctx.params.seed));
    else short.push(`${row.key}#${row.question_id ?? row.question}`);
  }
  const stats = {
    questions: rows.length,
    with_distractors: done.length,
    distractors_per_question: count,
    // Too few distinct answers in the test set to complete their options.
    dropped: { 'too-few-distractors': short.length },
    dropped_items: short.slice(0, 10),
    seed: ctx.params.seed,
  };
  await writeJsonl(join(ctx.outDir, DISTRACTORS_OUTPUT.distractors), done);
  await writeFile(
    join(ctx.outDir, DISTRACTORS_OUTPUT.stats),
    `${JSON.stringify(stats, null, 2)}\n`,
  );
  return ok({
    metrics: { 'distractors/questions': rows.length, 'distractors/with_options': done.length },
    stats,
    artifacts: [DISTRACTORS_OUTPUT.stats],
  });
}
