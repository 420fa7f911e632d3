import { join } from 'node:path';
import { fail, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { resolveLlmSettings } from '../llm/llm-settings.ts';
import {
  droppedByReason,
  finishLlmStage,
  type ItemOutcome,
  type LlmStageOptions,
  loadImage,
  openStageClient,
  progressReporter,
  runItems,
  writeLlmStageOutputs,
} from '../llm/llm-stage-items.ts';
import { SELECT_OUTPUT } from '../select/contract.ts';
import { readJsonlLines } from '../shared/jsonl-file.ts';
import { seededRandom } from '../shared/seeded-random.ts';
import { GENERATE_QA_OUTPUT, type GenerateQaContext } from './contract.ts';
import { qaRequest } from './qa-prompt.ts';
import {
  type BankQuestion,
  drawQuestions,
  QUESTION_BANK,
  type QuestionKind,
} from './question-bank.ts';

/** A row of qa.jsonl. `caption` rides along for the caption supervision types. */
export interface QaRow {
  key: string;
  /** Relative to the folder holding the records (curate's and select's outputs agree). */
  image: string;
  article_id: string;
  question: string;
  answer: string;
  kind: QuestionKind;
  question_id: string;
  caption: string;
}

/** Every call the stage makes: each image with its seeded draw of questions. */
export function qaItems(
  records: readonly CuratedRecord[],
  perImage: number,
  seed: number,
): QaItem[] {
  return records.flatMap((record) =>
    drawQuestions(QUESTION_BANK, perImage, seededRandom(seed, `generate-qa:${record.key}`)).map(
      (question) => ({ record, question }),
    ),
  );
}

export interface QaItem {
  record: CuratedRecord;
  question: BankQuestion;
}

/**
 * For every selected figure, `questions_per_image` questions drawn from the bank with the seed
 * (both kinds covered), each answered in its own call from the figure's metadata.
 */
export async function runGenerateQa(
  ctx: GenerateQaContext,
  options: LlmStageOptions = {},
): Promise<Result<StageSummary, StageFailure>> {
  const input = ctx.inputs.images;
  const perImage = ctx.params.data.questions_per_image;
  if (perImage > QUESTION_BANK.length) {
    return fail({
      reason: 'invalid-input',
      message: `data.questions_per_image is ${perImage} but the question bank holds ${QUESTION_BANK.length} questions`,
    });
  }
  const lines = await readJsonlLines(join(input.dir, SELECT_OUTPUT.records));
  if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
  const records = lines.value.map((l) => l.value as CuratedRecord);
  const items = qaItems(records, perImage, ctx.params.seed);

  const settings = resolveLlmSettings(ctx.params.llm);
  const opened = await openStageClient(ctx, 'generate-qa', settings, options);
  if (!opened.ok) return opened;
  const client = opened.value;
  try {
    const outcomes = await runItems(
      items,
      async ({ record, question }, wave): Promise<ItemOutcome<QaRow>> => {
        const item = `${record.key}#${question.id}`;
        const request = qaRequest(record, question, settings.max_output_tokens);
        if (settings.send_images) {
          const image = await loadImage(input.dir, record.image);
          if (!image) {
            return {
              ok: false,
              failure: { item, reason: 'missing-image', message: `no image at ${record.image}` },
            };
          }
          request.image = image;
        }
        const answer = await client.generateStructured(request, ctx.signal, wave);
        if (!answer.ok) {
          return {
            ok: false,
            failure: { item, reason: answer.error.reason, message: answer.error.message },
            // clean-qa would drop a malformed pair anyway, and a rerun would pay again for what
            // is most likely the same answer; the pair is left out and counted instead.
            dropped: answer.error.reason === 'malformed-answer',
          };
        }
        return {
          ok: true,
          value: {
            key: record.key,
            image: record.image,
            article_id: record.article_id,
            question: question.text,
            answer: (answer.value.value as { answer: string }).answer.trim(),
            kind: question.kind,
            question_id: question.id,
            caption: record.caption,
          },
        };
      },
      {
        concurrency: settings.rate_limit.concurrency * 2,
        signal: ctx.signal,
        onDone: progressReporter(ctx, items.length),
        waves: {
          client,
          firstRequest: ({ record, question }) =>
            qaRequest(record, question, settings.max_output_tokens),
        },
      },
    );
    const rows = outcomes.flatMap((o) => (o?.ok ? [o.value] : []));
    const dropped = droppedByReason(outcomes);
    const byKind: Record<string, number> = {};
    for (const row of rows) byKind[row.kind] = (byKind[row.kind] ?? 0) + 1;
    const stats = {
      images: records.length,
      questions_per_image: perImage,
      qa: rows.length,
      by_kind: byKind,
      dropped: dropped.counts,
      dropped_items: dropped.items,
      seed: ctx.params.seed,
      llm: client.metrics(),
      llm_model_versions: client.usage.modelVersions,
    };
    const finished = finishLlmStage('generate-qa', outcomes, client, ctx.signal, {
      metrics: {
        'generate-qa/images': records.length,
        'generate-qa/qa': rows.length,
        'generate-qa/dropped_malformed': dropped.counts['malformed-answer'] ?? 0,
      },
      stats,
      artifacts: [GENERATE_QA_OUTPUT.stats],
    });
    if (finished.ok) {
      await writeLlmStageOutputs(
        ctx.outDir,
        GENERATE_QA_OUTPUT.qa,
        rows,
        GENERATE_QA_OUTPUT.stats,
        stats,
      );
    }
    return finished;
  } finally {
    await client.close();
  }
}
