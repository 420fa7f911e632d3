import { join } from 'node:path';
import { fail, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import type { LlmClient, WaveCall } from '../llm/llm-client.ts';
import { resolveLlmSettings } from '../llm/llm-settings.ts';
import {
  droppedByReason,
  finishLlmStage,
  type ItemFailure,
  type ItemOutcome,
  type LlmStageOptions,
  openStageClient,
  progressReporter,
  runItems,
  writeLlmStageOutputs,
} from '../llm/llm-stage-items.ts';
import { resolveCategories, SKIN_CATEGORIES } from '../shared/categories.ts';
import { readJsonlLines } from '../shared/jsonl-file.ts';
import { seededRandom, seededShuffle } from '../shared/seeded-random.ts';
import { SPLIT_OUTPUT } from '../split/contract.ts';
import { DISTRACTORS_OUTPUT, type DistractorsContext } from './contract.ts';
import { distractorRequest, screenDistractors } from './distractor-prompt.ts';
import { fillFromOtherAnswers, optionRow } from './other-answers.ts';

/** A test QA row as split writes it (generate-qa's fields). */
export interface TestQa {
  key: string;
  question_id?: string;
  question: string;
  answer: string;
  image?: string;
  article_id?: string;
}

/** A row of distractors.jsonl: the options in a seeded order and where the right one is. */
export interface DistractorRow {
  key: string;
  question_id: string;
  question: string;
  answer: string;
  options: string[];
  answer_index: number;
  distractors: string[];
}

/** 28 Other Skin Diseases and 29 Unspecified name no condition an option could be about. */
const NOT_A_CONDITION = [28, 29];

export async function runDistractors(
  ctx: DistractorsContext,
  options: LlmStageOptions = {},
): Promise<Result<StageSummary, StageFailure>> {
  const lines = await readJsonlLines(join(ctx.inputs.split.dir, SPLIT_OUTPUT.test));
  if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
  const rows = lines.value.map((l) => l.value as TestQa);
  const count = ctx.params.eval.distractors;
  const selected = resolveCategories(ctx.params.data?.categories ?? ['Bacterial Infections']);
  if (!selected.ok) return fail({ reason: 'invalid-input', message: selected.error.message });
  const lookalikePool = SKIN_CATEGORIES.filter(
    (c) => !selected.value.includes(c) && !NOT_A_CONDITION.includes(c.number),
  ).map((c) => c.name);
  const lookalikesFor = (item: string) =>
    seededShuffle(lookalikePool, seededRandom(ctx.params.seed, `distractors:lookalikes:${item}`));

  const settings = resolveLlmSettings(ctx.params.llm);
  const opened = await openStageClient(ctx, 'distractors', settings, options);
  if (!opened.ok) return opened;
  const client = opened.value;
  let rejectedTotal = 0;
  let filledTotal = 0;
  try {
    const outcomes = await runItems(
      rows,
      async (row, wave): Promise<ItemOutcome<DistractorRow>> => {
        const questionId = row.question_id ?? row.question;
        const item = `${row.key}#${questionId}`;
        let written = await writeDistractors(
          client,
          row,
          count,
          ctx.signal,
          settings.max_output_tokens,
          wave,
          lookalikesFor(item),
          ctx.params.eval.distractor_rounds,
        );
        rejectedTotal += written.rejected;
        const keptBefore = written.ok ? written.distractors.length : written.kept.length;
        const filled =
          !written.ok &&
          written.failure.reason === 'too-few-distractors' &&
          ctx.params.eval.distractor_fallback === 'other_answers'
            ? fillFromOtherAnswers(row, written.kept, count, rows, ctx.params.seed)
            : undefined;
        if (filled) {
          filledTotal += filled.length - keptBefore;
          written = { ok: true, distractors: filled, rejected: written.rejected };
        }
        if (!written.ok) {
          return {
            ok: false,
            failure: { item, ...written.failure },
            // Every round is memoized, so a rerun would replay the same unusable options.
            dropped:
              written.failure.reason === 'too-few-distractors' ||
              written.failure.reason === 'malformed-answer',
          };
        }
        return { ok: true, value: optionRow(row, written.distractors, count, ctx.params.seed) };
      },
      {
        concurrency: settings.rate_limit.concurrency * 2,
        signal: ctx.signal,
        onDone: progressReporter(ctx, rows.length),
        waves: {
          client,
          firstRequest: (row) =>
            distractorRequest(
              row.question,
              row.answer,
              count,
              [],
              settings.max_output_tokens,
              lookalikesFor(`${row.key}#${row.question_id ?? row.question}`),
            ),
        },
      },
    );
    const done = outcomes.flatMap((o) => (o?.ok ? [o.value] : []));
    const dropped = droppedByReason(outcomes);
    const stats = {
      questions: rows.length,
      with_distractors: done.length,
      distractors_per_question: count,
      rejected_near_answer_or_duplicate: rejectedTotal,
      filled_from_other_answers: filledTotal,
      dropped: dropped.counts,
      dropped_items: dropped.items,
      seed: ctx.params.seed,
      llm: client.metrics(),
      llm_model_versions: client.usage.modelVersions,
    };
    const finished = finishLlmStage('distractors', outcomes, client, ctx.signal, {
      metrics: {
        'distractors/questions': rows.length,
        'distractors/with_options': done.length,
        'distractors/rejected': rejectedTotal,
        'distractors/filled': filledTotal,
        'distractors/dropped': dropped.items.length,
      },
      stats,
      artifacts: [DISTRACTORS_OUTPUT.stats],
    });
    if (finished.ok) {
      await writeLlmStageOutputs(
        ctx.outDir,
        DISTRACTORS_OUTPUT.distractors,
        done,
        DISTRACTORS_OUTPUT.stats,
        stats,
      );
    }
    return finished;
  } finally {
    await client.close();
  }
}

type Written =
  | { ok: true; distractors: string[]; rejected: number }
  | {
      ok: false;
      failure: Omit<ItemFailure, 'item'>;
      rejected: number;
      /** The options that passed the screen before the rounds ran out. */
      kept: string[];
    };

/**
 * Asks for `count` options, keeps those that are neither the answer nor each other in other
 * words, and asks again for the missing ones (naming the rejects) up to `rounds` calls (`eval.distractor_rounds`).
 * Every round is its own memoized call, so a rerun replays the same rounds for free.
 */
async function writeDistractors(
  client: LlmClient,
  row: TestQa,
  count: number,
  signal: AbortSignal,
  maxOutputTokens: number,
  wave: WaveCall | undefined,
  lookalikes: readonly string[],
  rounds: number,
): Promise<Written> {
  const kept: string[] = [];
  const rejected: string[] = [];
  let named = 0;
  for (let round = 1; round <= rounds && kept.length < count; round++) {
    const missing = count - kept.length;
    // Each round names conditions not named before, so a retry asks for something new.
    const names = lookalikes.slice(named, named + missing);
    named += names.length;
    const answer = await client.generateStructured(
      distractorRequest(
        row.question,
        row.answer,
        missing,
        [...kept, ...rejected],
        maxOutputTokens,
        names,
      ),
      signal,
      wave,
    );
    if (!answer.ok) {
      return {
        ok: false,
        failure: { reason: answer.error.reason, message: answer.error.message },
        rejected: rejected.length,
        kept,
      };
    }
    const proposed = (answer.value.value as { distractors: string[] }).distractors;
    const screened = screenDistractors(row.answer, kept, proposed);
    kept.push(...screened.accepted.slice(0, missing));
    rejected.push(...screened.rejected);
  }
  if (kept.length < count) {
    return {
      ok: false,
      failure: {
        reason: 'too-few-distractors',
        message: `only ${kept.length} of ${count} options differed enough from the answer and each other after ${rounds} call${rounds === 1 ? '' : 's'}`,
      },
      rejected: rejected.length,
      kept,
    };
  }
  return { ok: true, distractors: kept, rejected: rejected.length };
}
