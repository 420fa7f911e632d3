import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../runner/canonical-json.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure, StageSummary } from '../../runner/stage-kind.ts';
import { DISTRACTORS_OUTPUT } from '../distractors/contract.ts';
import { GENERATE_OUTPUT } from '../generate/contract.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { EVALUATE_OUTPUT, type EvaluateContext, type EvaluateParams } from './contract.ts';
import { type BertScorer, bertScorerFiles, createBertScorer } from './encoders/bert-score.ts';
import {
  createSentenceEncoder,
  type SentenceEncoder,
  sentenceEncoderFiles,
} from './encoders/sentence-encoder.ts';
import { type PredictionLine, toPredictionLine } from './prediction-lines.ts';
import { type ScoreReport, scoreMetrics, scorePredictions } from './score-predictions.ts';

/**
 * Where the encoders come from; tests and the CLI may hand in their own. `log` hears the
 * set-up's lines (a hub model's download progress, the export).
 */
export interface EvaluateEncoders {
  sentenceEncoder(
    settings: EvaluateParams['eval']['encoder'],
    log?: (line: string) => void,
  ): Promise<Result<SentenceEncoder, { reason: string; message: string }>>;
  bertScorer(
    settings: EvaluateParams['eval']['bertscore'],
    log?: (line: string) => void,
  ): Promise<Result<BertScorer, { reason: string; message: string }>>;
  /** Sets up both encoders' files without loading them (the kind's `prepare`). */
  prepare?(settings: EvaluateParams['eval']): Promise<unknown>;
}

/**
 * The real encoders; a refusal names the setting (or CLI flag) that chose each model. `env`
 * holds HF_ENDPOINT, HF_TOKEN and the offline switches (default: the process's).
 */
export function evaluateEncoders(settings: {
  bertscore: string;
  encoder: string;
  env?: Readonly<Record<string, string | undefined>>;
}): EvaluateEncoders {
  const sentenceOptions = (
    encoder: EvaluateParams['eval']['encoder'],
    log?: (line: string) => void,
  ) => ({
    model: encoder.model,
    revision: encoder.revision,
    log,
    setting: settings.encoder,
    env: settings.env,
  });
  const bertOptions = (
    bertscore: EvaluateParams['eval']['bertscore'],
    log?: (line: string) => void,
  ) => ({
    model: bertscore.model,
    revision: bertscore.revision,
    layer: bertscore.layer,
    idf: bertscore.idf,
    log,
    setting: settings.bertscore,
    env: settings.env,
  });
  return {
    sentenceEncoder: (encoder, log) => createSentenceEncoder(sentenceOptions(encoder, log)),
    bertScorer: (bertscore, log) => createBertScorer(bertOptions(bertscore, log)),
    // One after the other: both may be the same model, which one set-up then serves.
    prepare: async (evaluate) => {
      await bertScorerFiles(bertOptions(evaluate.bertscore));
      await sentenceEncoderFiles(sentenceOptions(evaluate.encoder));
    },
  };
}

export const defaultEvaluateEncoders: EvaluateEncoders = evaluateEncoders({
  bertscore: 'eval.bertscore.model',
  encoder: 'eval.encoder.model',
});

/**
 * The kind's `prepare`: the encoders' files, set up before the sweep's first stage; once per
 * process and encoder settings, since a sweep's ten evaluate stages usually share them.
 */
export function prepareEvaluate(params: EvaluateParams): Promise<unknown> {
  const { bertscore, encoder } = params.eval;
  const key = canonicalJson({ bertscore, encoder });
  let pending = preparing.get(key);
  if (pending === undefined) {
    pending = defaultEvaluateEncoders.prepare?.(params.eval) ?? Promise.resolve();
    preparing.set(key, pending);
  }
  return pending;
}

const preparing = new Map<string, Promise<unknown>>();

/**
 * Scores a generate stage's predictions.jsonl: BLEU, ROUGE, BERTScore, the answer-quality
 * figures, and the semantic-matching accuracy against the distractors stage's options
 * (joined on the test question: image key + question id).
 */
export async function runEvaluate(
  ctx: EvaluateContext,
  encoders: EvaluateEncoders = defaultEvaluateEncoders,
): Promise<Result<StageSummary, StageFailure>> {
  const lines = await joinedLines(
    join(ctx.inputs.predictions.dir, GENERATE_OUTPUT.predictions),
    ctx.inputs.distractors && join(ctx.inputs.distractors.dir, DISTRACTORS_OUTPUT.distractors),
  );
  if (!lines.ok) return lines;

  ctx.report({ type: 'progress', done: 0, total: 2, unit: 'phase', note: 'scoring', rate: false });
  const log = (message: string) => ctx.report({ type: 'log', level: 'info', message });
  const report = await scoreWithEncoders(lines.value.lines, ctx.params, encoders, ctx.signal, log);
  if (!report.ok) return report;
  ctx.report({ type: 'progress', done: 1, total: 2, unit: 'phase', note: 'writing', rate: false });
  const { examples, ...summary } = report.value;
  await writeFile(
    join(ctx.outDir, EVALUATE_OUTPUT.metrics),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
  await writeJsonl(join(ctx.outDir, EVALUATE_OUTPUT.examples), examples);
  ctx.report({ type: 'progress', done: 2, total: 2, unit: 'phase', rate: false });
  return ok(summaryOf(report.value, lines.value.withoutOptions));
}

/**
 * Every metric of the lines with the spec's encoders: what the stage runs, and what
 * `dermatune score` runs on a file (`readPredictionLines` first). Encoders are loaded here and
 * released before returning; the sentence encoder only when some line has options.
 */
export async function scoreWithEncoders(
  lines: readonly PredictionLine[],
  params: EvaluateParams,
  encoders: EvaluateEncoders = defaultEvaluateEncoders,
  signal?: AbortSignal,
  log?: (line: string) => void,
): Promise<Result<ScoreReport, StageFailure>> {
  const settings = params.eval;
  if (settings.bertscore.rescale_with_baseline) {
    return fail({
      reason: 'invalid-input',
      message:
        'eval.bertscore.rescale_with_baseline: no baseline file ships for the packaged encoders; set it to false',
    });
  }
  const scorer = await encoders.bertScorer(settings.bertscore, log);
  if (!scorer.ok) return fail(setupFailure(scorer.error));
  let encoder: SentenceEncoder | undefined;
  try {
    if (lines.some((l) => l.options !== undefined)) {
      const created = await encoders.sentenceEncoder(settings.encoder, log);
      if (!created.ok) return fail(setupFailure(created.error));
      encoder = created.value;
    }
    if (signal?.aborted) return fail({ reason: 'cancelled', message: 'evaluate cancelled' });
    const sentenceEncoder = encoder;
    return ok(
      await scorePredictions(lines, {
        bleuSmooth: settings.bleu.smooth,
        rougeStemmer: settings.rouge.use_stemmer,
        seed: params.seed,
        bertScore: (candidates, references) => scorer.value.score(candidates, references),
        ...(sentenceEncoder && {
          embed: (texts: readonly string[]) => sentenceEncoder.embed(texts),
          encoderName: sentenceEncoder.modelId,
        }),
      }),
    );
  } finally {
    await scorer.value.release();
    await encoder?.release();
  }
}

/**
 * A hub that does not answer (or sends bytes that fail their check) is a service failing; a
 * refused token, credentials; a failed export, the Python side; anything else, the model the
 * spec names cannot be had.
 */
function setupFailure(error: { reason: string; message: string }): StageFailure {
  const reasons: Record<string, StageFailure['reason']> = {
    'hub-unreachable': 'external-service',
    'hub-corrupt-download': 'external-service',
    'hub-unauthorized': 'missing-credentials',
    'python-env-failed': 'worker-error',
    'export-failed': 'worker-error',
  };
  return { reason: reasons[error.reason] ?? 'missing-model', message: error.message };
}

function summaryOf(report: ScoreReport, withoutOptions: number): StageSummary {
  return {
    metrics: scoreMetrics(report),
    artifacts: [EVALUATE_OUTPUT.metrics, EVALUATE_OUTPUT.examples],
    stats: {
      lines: report.count,
      lines_without_options: withoutOptions,
      accuracy_skipped: report.accuracy_skipped ?? null,
      bertscore_model: report.bertscore?.model ?? null,
      bertscore_layer: report.bertscore?.layer ?? null,
      encoder: report.accuracy?.encoder ?? null,
    },
  };
}

/**
 * The prediction lines, each with its question's options and answer index from
 * distractors.jsonl when there is a row for it.
 */
async function joinedLines(
  predictionsFile: string,
  distractorsFile: string | undefined,
): Promise<Result<{ lines: PredictionLine[]; withoutOptions: number }, StageFailure>> {
  const read = await readJsonlLines(predictionsFile);
  if (!read.ok) return fail({ reason: 'invalid-input', message: read.error.message });
  const options = new Map<string, { options: unknown; answer_index: unknown }>();
  if (distractorsFile !== undefined) {
    const rows = await readJsonlLines(distractorsFile);
    if (!rows.ok) return fail({ reason: 'invalid-input', message: rows.error.message });
    for (const { value } of rows.value) {
      const row = value as Record<string, unknown>;
      options.set(questionKey(row), { options: row.options, answer_index: row.answer_index });
    }
  }
  const lines: PredictionLine[] = [];
  let withoutOptions = 0;
  for (const { line, value } of read.value) {
    const record = value as Record<string, unknown> | undefined;
    const joined =
      record && typeof record === 'object' && record.options === undefined
        ? { ...record, ...options.get(questionKey(record)) }
        : record;
    const parsed = toPredictionLine(joined, line);
    if (typeof parsed === 'string') {
      return fail({ reason: 'invalid-input', message: `${predictionsFile}:${line}: ${parsed}` });
    }
    if (parsed.options === undefined) withoutOptions++;
    lines.push(parsed);
  }
  if (lines.length === 0) {
    return fail({ reason: 'invalid-input', message: `${predictionsFile}: no predictions` });
  }
  return ok({ lines, withoutOptions });
}

/** A test question's identity as the distractors stage writes it: image key # question id. */
function questionKey(row: Record<string, unknown>): string {
  return `${String(row.key)}#${String(row.question_id ?? row.question)}`;
}
