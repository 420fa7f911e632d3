import { readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { writeJsonl } from '../shared/jsonl-file.ts';
import {
  isFatalForStage,
  type LlmFailureReason,
  type LlmImage,
  type LlmRequest,
} from './llm-call.ts';
import { type LlmBackoff, type LlmClient, openLlmClient, type WaveCall } from './llm-client.ts';
import type { LlmSettings } from './llm-settings.ts';

/**
 * The item-by-item loop every LLM stage runs: items go out concurrently (the client's rate
 * limiter decides the pace), each ends done or failed with its reason, and the stage fails as a
 * whole when any item failed, so the store commits nothing half done while the memo keeps every
 * answered call for the rerun.
 */
export interface ItemFailure {
  item: string;
  reason: LlmFailureReason | 'missing-image' | 'too-few-distractors';
  message: string;
}

/**
 * `dropped`: the item is left out of the output and counted, and the stage still succeeds.
 * For answers that can never become usable: every call is memoized, so a rerun would replay
 * the same unusable answers (malformed QA answers, options that all repeat the answer).
 */
export type ItemOutcome<R> =
  | { ok: true; value: R }
  | { ok: false; failure: ItemFailure; dropped?: boolean };

export async function runItems<T, R>(
  items: readonly T[],
  worker: (item: T, wave?: WaveCall) => Promise<ItemOutcome<R>>,
  options: {
    concurrency: number;
    signal: AbortSignal;
    onDone?: (done: number) => void;
    /**
     * The client, when its provider decodes in lock-step slots (lanes > 1), and each item's
     * first request (what names the item in its wave's id).
     */
    waves?: { client: LlmClient; firstRequest: (item: T) => LlmRequest };
  },
): Promise<(ItemOutcome<R> | undefined)[]> {
  // undefined marks an item never started (the run was stopped); no holes, so counting sees it.
  const outcomes: (ItemOutcome<R> | undefined)[] = Array.from(
    { length: items.length },
    () => undefined,
  );
  let done = 0;
  const finished = () => {
    done++;
    options.onDone?.(done);
  };
  const waves = options.waves;
  if (waves && waves.client.lanes > 1) {
    await runWaves(
      items,
      worker,
      outcomes,
      waves.client,
      waves.firstRequest,
      options.signal,
      finished,
    );
    return outcomes;
  }
  let next = 0;
  const lane = async () => {
    while (next < items.length && !options.signal.aborted) {
      const index = next++;
      outcomes[index] = await worker(items[index] as T);
      finished();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, lane));
  return outcomes;
}

/**
 * Items in waves of `client.lanes`, in their order: every slot of a wave is live before any
 * starts, the next wave starts when the last item of this one ended, so the same items always
 * share the same steps (lockstep-batching.ts). A wave is marked finished once every item in it
 * ended without being cancelled; an unfinished one is decoded again whole on the rerun.
 */
async function runWaves<T, R>(
  items: readonly T[],
  worker: (item: T, wave?: WaveCall) => Promise<ItemOutcome<R>>,
  outcomes: (ItemOutcome<R> | undefined)[],
  client: LlmClient,
  firstRequest: (item: T) => LlmRequest,
  signal: AbortSignal,
  finished: () => void,
): Promise<void> {
  const lanes = client.lanes;
  for (let start = 0; start < items.length && !signal.aborted; start += lanes) {
    const members = items.slice(start, start + lanes);
    const wave = client.waveId(members.map(firstRequest));
    const fresh = !(await client.waveFinished(wave));
    for (let slot = 0; slot < members.length; slot++) client.beginSlot(slot);
    await Promise.all(
      members.map(async (item, slot) => {
        try {
          outcomes[start + slot] = await worker(item, { wave, slot, fresh });
        } finally {
          client.endSlot(slot);
        }
        finished();
      }),
    );
    const cancelled = outcomes
      .slice(start, start + members.length)
      .some((o) => o === undefined || (!o.ok && o.failure.reason === 'cancelled'));
    if (fresh && !cancelled && !signal.aborted) await client.markWaveFinished(wave);
  }
}

/**
 * The summary of an LLM stage, or its failure: cancelled when the run was stopped, otherwise
 * `items-failed` with every failed item and its reason in `details`.
 */
export function finishLlmStage(
  stage: string,
  outcomes: readonly (ItemOutcome<unknown> | undefined)[],
  client: LlmClient,
  signal: AbortSignal,
  summary: StageSummary,
): Result<StageSummary, StageFailure> {
  const failures = outcomes.flatMap((o) => (o && !o.ok && !o.dropped ? [o.failure] : []));
  const unfinished = outcomes.filter((o) => o === undefined).length;
  if (signal.aborted || failures.some((f) => f.reason === 'cancelled')) {
    return fail({
      reason: 'cancelled',
      message: `${stage} stopped with ${unfinished + failures.length} of ${outcomes.length} items left; a rerun resumes from the memo`,
    });
  }
  const fatal = failures.find((f) => isFatalForStage(f.reason as LlmFailureReason));
  if (fatal) {
    const answered = outcomes.filter((o) => o?.ok).length;
    return fail({
      reason: fatal.reason === 'unauthorized' ? 'missing-credentials' : 'external-service',
      message: `${stage} stopped at the first ${fatal.reason} answer: ${fatal.message}. No further call was sent; the ${answered} answered item(s) are kept in the memo. Fix ${fatal.reason === 'unauthorized' ? 'the API key (llm.api_key_env)' : 'llm.model'} and run again (\`dermatune preflight\` checks it for free).`,
      details: failures,
    });
  }
  if (failures.length > 0) {
    const byReason: Record<string, number> = {};
    for (const f of failures) byReason[f.reason] = (byReason[f.reason] ?? 0) + 1;
    const counts = Object.entries(byReason)
      .map(([reason, count]) => `${count} ${reason}`)
      .join(', ');
    return fail({
      reason: 'items-failed',
      message: `${stage}: ${failures.length} of ${outcomes.length} items failed (${counts}); a rerun retries only those`,
      details: failures,
    });
  }
  const versions = Object.keys(client.usage.modelVersions).sort();
  return ok({
    ...summary,
    metrics: { ...summary.metrics, ...client.metrics() },
    ...(versions.length > 0
      ? { tags: { ...summary.tags, 'llm.model_version': versions.join(',') } }
      : {}),
  });
}

/** The items left out of the output, by reason, for the stage's stats. */
export function droppedByReason(outcomes: readonly (ItemOutcome<unknown> | undefined)[]): {
  counts: Record<string, number>;
  items: ItemFailure[];
} {
  const items = outcomes.flatMap((o) => (o && !o.ok && o.dropped ? [o.failure] : []));
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.reason] = (counts[item.reason] ?? 0) + 1;
  return { counts, items };
}

/** Reads the image to send with a call; the path is relative to the input folder. */
export async function loadImage(dir: string, relativePath: string): Promise<LlmImage | undefined> {
  try {
    const bytes = await readFile(join(dir, relativePath));
    const ext = extname(relativePath).toLowerCase();
    const mimeType = ext === '.png' ? 'image/png' : ext === '.webp' ? 'image/webp' : 'image/jpeg';
    return { bytes, mimeType };
  } catch {
    return undefined;
  }
}

/** What a stage reports while its items complete. */
export function progressReporter(
  ctx: Pick<StageContext<unknown>, 'report'>,
  total: number,
): (done: number) => void {
  return (done) => ctx.report({ type: 'progress', done, total, unit: 'items' });
}

/** What tests and benches may change about how a stage talks to its LLM; the runner passes none. */
export interface LlmStageOptions {
  env?: Readonly<Record<string, string | undefined>>;
  backoff?: LlmBackoff;
  rateWindowMs?: number;
}

/** The stage's client, or the stage failure that says why there is none (no key, no model). */
export async function openStageClient(
  ctx: Pick<StageContext<unknown>, 'memo' | 'report'>,
  stage: string,
  settings: LlmSettings,
  options: LlmStageOptions = {},
): Promise<Result<LlmClient, StageFailure>> {
  const client = await openLlmClient(
    {
      settings,
      memo: ctx.memo,
      stage,
      ...(options.env ? { env: options.env } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.rateWindowMs ? { rateWindowMs: options.rateWindowMs } : {}),
    },
    (message) => ctx.report({ type: 'log', level: 'info', message }),
  );
  if (client.ok) return client;
  const reason =
    client.error.reason === 'missing-credentials'
      ? 'missing-credentials'
      : client.error.reason === 'missing-model'
        ? 'missing-model'
        : 'external-service';
  return fail({ reason, message: client.error.message });
}

/** An LLM stage's outputs: its rows as JSONL and its stats record, written once it succeeded. */
export async function writeLlmStageOutputs(
  outDir: string,
  rowsFile: string,
  rows: Iterable<unknown>,
  statsFile: string,
  stats: unknown,
): Promise<void> {
  await writeJsonl(join(outDir, rowsFile), rows);
  await writeFile(join(outDir, statsFile), `${JSON.stringify(stats, null, 2)}\n`);
}
