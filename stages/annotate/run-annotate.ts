import { join } from 'node:path';
import { fail, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { CURATE_OUTPUT } from '../curate/contract.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { resolveLlmSettings } from '../llm/llm-settings.ts';
import {
  finishLlmStage,
  type ItemOutcome,
  type LlmStageOptions,
  loadImage,
  openStageClient,
  progressReporter,
  runItems,
  writeLlmStageOutputs,
} from '../llm/llm-stage-items.ts';
import { readJsonlLines } from '../shared/jsonl-file.ts';
import {
  type AnnotationRow,
  annotationRequest,
  interpretAnnotation,
  unparseableAnnotation,
} from './annotate-prompt.ts';
import { ANNOTATE_OUTPUT, type AnnotateContext } from './contract.ts';

/**
 * Labels every curated figure with one of the 29 categories. Malformed and out-of-list answers
 * are not failures: they become category 29 with the raw answer kept, as the paper's pipeline
 * needs one label per figure. Provider failures (safety blocks, exhausted retries) are.
 */
export async function runAnnotate(
  ctx: AnnotateContext,
  options: LlmStageOptions = {},
): Promise<Result<StageSummary, StageFailure>> {
  const input = ctx.inputs.records;
  const lines = await readJsonlLines(join(input.dir, CURATE_OUTPUT.records));
  if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
  const records = lines.value.map((l) => l.value as CuratedRecord);
  const settings = resolveLlmSettings(ctx.params.llm);
  const opened = await openStageClient(ctx, 'annotate', settings, options);
  if (!opened.ok) return opened;
  const client = opened.value;
  try {
    const outcomes = await runItems(
      records,
      async (record, wave): Promise<ItemOutcome<AnnotationRow>> => {
        const request = annotationRequest(record, settings.max_output_tokens);
        if (settings.send_images) {
          const image = await loadImage(input.dir, record.image);
          if (!image) {
            return {
              ok: false,
              failure: {
                item: record.key,
                reason: 'missing-image',
                message: `no image at ${record.image}`,
              },
            };
          }
          request.image = image;
        }
        const answer = await client.generateStructured(request, ctx.signal, wave);
        if (answer.ok)
          return {
            ok: true,
            value: interpretAnnotation(record.key, answer.value.value, answer.value.raw),
          };
        if (answer.error.reason === 'malformed-answer') {
          return { ok: true, value: unparseableAnnotation(record.key, answer.error.raw) };
        }
        return {
          ok: false,
          failure: { item: record.key, reason: answer.error.reason, message: answer.error.message },
        };
      },
      {
        concurrency: settings.rate_limit.concurrency * 2,
        signal: ctx.signal,
        onDone: progressReporter(ctx, records.length),
        waves: {
          client,
          firstRequest: (record) => annotationRequest(record, settings.max_output_tokens),
        },
      },
    );
    const rows = outcomes.flatMap((o) => (o?.ok ? [o.value] : []));
    const byCategory: Record<string, number> = {};
    const fallbacks: Record<string, number> = {};
    for (const row of rows) {
      const label = `${row.category_number} ${row.category_name}`;
      byCategory[label] = (byCategory[label] ?? 0) + 1;
      if (row.fallback) fallbacks[row.fallback] = (fallbacks[row.fallback] ?? 0) + 1;
    }
    const stats = {
      records: records.length,
      annotated: rows.length,
      by_category: byCategory,
      fallbacks,
      llm: client.metrics(),
      llm_model_versions: client.usage.modelVersions,
    };
    const finished = finishLlmStage('annotate', outcomes, client, ctx.signal, {
      metrics: {
        'annotate/records': records.length,
        'annotate/fallback_unparseable': fallbacks.unparseable ?? 0,
        'annotate/fallback_out_of_list': fallbacks['out-of-list'] ?? 0,
      },
      stats,
      artifacts: [ANNOTATE_OUTPUT.stats],
    });
    if (finished.ok) {
      await writeLlmStageOutputs(
        ctx.outDir,
        ANNOTATE_OUTPUT.annotations,
        rows,
        ANNOTATE_OUTPUT.stats,
        stats,
      );
    }
    return finished;
  } finally {
    await client.close();
  }
}
