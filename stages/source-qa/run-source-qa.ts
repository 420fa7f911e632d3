import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { SELECT_OUTPUT } from '../select/contract.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { SOURCE_QA_OUTPUT, type SourceQaContext } from './contract.ts';

/** A row of qa.jsonl in generate-qa's shape, the kind saying where the pair came from. */
export interface SourceQaRow {
  key: string;
  image: string;
  article_id: string;
  question: string;
  answer: string;
  kind: 'source';
  /** The question's text: the same question over several images is one question, as in a bank. */
  question_id: string;
  caption: string;
}

export async function runSourceQa(
  ctx: SourceQaContext,
): Promise<Result<StageSummary, StageFailure>> {
  const lines = await readJsonlLines(join(ctx.inputs.images.dir, SELECT_OUTPUT.records));
  if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
  const rows: SourceQaRow[] = [];
  let missing = 0;
  for (const { value } of lines.value) {
    const record = value as CuratedRecord;
    const question = record.question?.trim();
    const answer = record.answer?.trim();
    if (!question || !answer) {
      missing++;
      continue;
    }
    rows.push({
      key: record.key,
      image: record.image,
      article_id: record.article_id,
      question,
      answer,
      kind: 'source',
      question_id: question,
      caption: record.caption,
    });
  }
  if (rows.length === 0) {
    return fail({
      reason: 'invalid-input',
      message: `none of the ${lines.value.length} selected records has both a question and an answer; map them with data.columns.question and data.columns.answer`,
    });
  }
  const stats = {
    records: lines.value.length,
    pairs: rows.length,
    dropped: { 'missing-qa': missing },
  };
  await writeJsonl(join(ctx.outDir, SOURCE_QA_OUTPUT.qa), rows);
  await writeFile(join(ctx.outDir, SOURCE_QA_OUTPUT.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return ok({
    metrics: { 'source-qa/pairs': rows.length, 'source-qa/dropped/missing-qa': missing },
    stats,
    artifacts: [SOURCE_QA_OUTPUT.stats],
  });
}
