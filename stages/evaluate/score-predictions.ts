import { ok, type Result } from '../../runner/result.ts';
import { type AnswerLengthStats, answerLengthStats } from './answer-length.ts';
import {
  type BleuResult,
  bleuFromStatistics,
  bleuMetric,
  bleuStatistics,
  bleuStatisticsWidth,
  computeBleu,
} from './bleu.ts';
import { columnSums } from './bootstrap.ts';
import {
  type CaptionLeakKind,
  type CaptionLeakStats,
  captionLeakStats,
  captionLeaks,
} from './caption-leak.ts';
import type { BertScoreResult } from './encoders/bert-score.ts';
import { truncatedShare, truncateToReference } from './length-controlled.ts';
import {
  INTERVAL_METRICS,
  intervalMetricNames,
  type MetricIntervals,
  metricIntervals,
} from './metric-intervals.ts';
import {
  type PredictionLine,
  type PredictionsFailure,
  readPredictionLines,
} from './prediction-lines.ts';
import { type RepetitionStats, repetitionStats } from './repetition.ts';
import { computeRouge, ROUGE_TYPES, type RougeType } from './rouge.ts';
import { computeSacreBleu, type SacreBleuResult } from './sacrebleu.ts';
import { type AccuracyTally, type EmbedFunction, semanticAccuracy } from './semantic-accuracy.ts';

/** Scores pair k as (candidates[k], references[k]): a `BertScorer`'s `score`, or a stand-in. */
export type BertScoreFunction = (
  candidates: readonly string[],
  references: readonly string[],
) => Promise<BertScoreResult>;

/**
 * The core of `dermatune score` and of the evaluate stage: every metric of a predictions
 * file in one report. BLEU and ROUGE are in 0..1 as `evaluate` returns them, sacreBLEU in
 * 0..100 as sacreBLEU does; the table turns them into percentages.
 */
export interface ScoreSettings {
  /** `evaluate`'s bleu `smooth` (Lin & Och add-one). */
  bleuSmooth?: boolean;
  /** `rouge_score`'s `use_stemmer`. */
  rougeStemmer?: boolean;
  /** Seeds the option order of the accuracy. */
  seed?: number;
  /** The sentence encoder; without it the accuracy is skipped, and the report says so. */
  embed?: EmbedFunction;
  /** Recorded with the accuracy so a number always says which encoder made it. */
  encoderName?: string;
  /** BERTScore against each line's first reference; skipped when absent. */
  bertScore?: BertScoreFunction;
}

export interface ScoreReport {
  count: number;
  bleu: BleuResult;
  sacrebleu: SacreBleuResult;
  /** Plain mean of per-example F-measures (see rouge.ts for why not the bootstrap). */
  rouge: Record<RougeType, number>;
  length: AnswerLengthStats;
  repetition: RepetitionStats;
  caption_leak: CaptionLeakStats;
  /** The same artefacts in the references: what the model could have learned them from. */
  reference_caption_leak: CaptionLeakStats;
  /** Means over lines, with the model and layer that produced them (bert_score's P, R, F1). */
  bertscore?: {
    model: string;
    layer: number;
    idf: boolean;
    rescaled: boolean;
    precision: number;
    recall: number;
    f1: number;
  };
  accuracy?: {
    encoder?: string;
    overall: AccuracyTally;
    by_kind: Record<string, AccuracyTally>;
  };
  /** Why there is no accuracy: no line had options, or no encoder was given. */
  accuracy_skipped?: 'no-options' | 'no-encoder';
  /** 95% bootstrap intervals over the questions (seeded with the settings' seed). */
  intervals: MetricIntervals;
  /** The metrics on answers cut to their reference's length in words (length-controlled.ts). */
  length_controlled: LengthControlled;
  examples: ExampleScore[];
}

export interface LengthControlled {
  /** Share of answers longer than their reference, i.e. that the cut changed. */
  truncated_share: number;
  bleu: number;
  rouge1: number;
  rougeL: number;
  bertscore_f1?: number;
}

/** Per-line figures, for the report's sample cases and for finding the worst answers. */
export interface ExampleScore {
  id: string;
  rouge1: number;
  rougeL: number;
  bertscore_f1?: number;
  caption_leaks: CaptionLeakKind[];
  predicted_option?: number;
  correct?: boolean;
  /** evaluate's BLEU statistics of the line (`bleuStatistics`), for corpus BLEU on resamples. */
  bleu_stats: number[];
}

export async function scorePredictionsFile(
  file: string,
  settings: ScoreSettings = {},
): Promise<Result<ScoreReport, PredictionsFailure>> {
  const lines = await readPredictionLines(file);
  if (!lines.ok) return lines;
  return ok(await scorePredictions(lines.value, settings));
}

export async function scorePredictions(
  lines: readonly PredictionLine[],
  settings: ScoreSettings = {},
): Promise<ScoreReport> {
  const predictions = lines.map((l) => l.prediction);
  const references = lines.map((l) => l.reference);
  const firstReferences = lines.map((l) =>
    typeof l.reference === 'string' ? l.reference : (l.reference[0] ?? ''),
  );
  const rouge = computeRouge(predictions, references, {
    useStemmer: settings.rougeStemmer ?? false,
  });
  const bleuWidth = bleuStatisticsWidth();
  const bleuRows = bleuStatistics(predictions, references);
  const examples: ExampleScore[] = lines.map((l, i) => ({
    id: l.id,
    rouge1: rouge.perExample.rouge1[i] as number,
    rougeL: rouge.perExample.rougeL[i] as number,
    caption_leaks: captionLeaks(l.prediction),
    bleu_stats: Array.from(bleuRows.subarray(i * bleuWidth, (i + 1) * bleuWidth)),
  }));
  const bleuOptions = { smooth: settings.bleuSmooth ?? false };
  const cut = predictions.map((p, i) => truncateToReference(p, firstReferences[i] as string));
  const cutRouge = computeRouge(cut, references, { useStemmer: settings.rougeStemmer ?? false });

  const report: Omit<ScoreReport, 'intervals'> = {
    count: lines.length,
    bleu: bleuFromStatistics(
      columnSums({ metric: bleuMetric(), n: lines.length, rows: bleuRows }),
      bleuOptions,
    ),
    sacrebleu: computeSacreBleu(predictions, references),
    rouge: rouge.mean,
    length: answerLengthStats(predictions, firstReferences),
    repetition: repetitionStats(predictions),
    caption_leak: captionLeakStats(predictions),
    reference_caption_leak: captionLeakStats(firstReferences),
    length_controlled: {
      truncated_share: truncatedShare(predictions, firstReferences),
      bleu: computeBleu(cut, references, bleuOptions).bleu,
      rouge1: cutRouge.mean.rouge1,
      rougeL: cutRouge.mean.rougeL,
    },
    examples,
  };

  if (settings.bertScore !== undefined) {
    const scored = await settings.bertScore(predictions, firstReferences);
    const { model, layer, idf, rescaled, mean } = scored;
    report.bertscore = { model, layer, idf, rescaled, ...mean };
    scored.f1.forEach((f1, i) => {
      (examples[i] as ExampleScore).bertscore_f1 = f1;
    });
    // Only the answers the cut changed need encoding again.
    const changed = cut.flatMap((c, i) => (c === predictions[i] ? [] : [i]));
    const cutF1 = [...scored.f1];
    if (changed.length > 0) {
      const rescored = await settings.bertScore(
        changed.map((i) => cut[i] as string),
        changed.map((i) => firstReferences[i] as string),
      );
      changed.forEach((i, k) => {
        cutF1[i] = rescored.f1[k] as number;
      });
    }
    report.length_controlled.bertscore_f1 = average(cutF1);
  }

  const withOptions = lines.flatMap((l, i) =>
    l.options !== undefined && l.answer_index !== undefined
      ? [
          {
            index: i,
            item: {
              id: l.id,
              answer: l.prediction,
              options: l.options,
              answerIndex: l.answer_index,
              kind: l.kind,
            },
          },
        ]
      : [],
  );
  if (withOptions.length === 0) report.accuracy_skipped = 'no-options';
  else if (settings.embed === undefined) report.accuracy_skipped = 'no-encoder';
  else {
    const accuracy = await semanticAccuracy(
      withOptions.map((w) => w.item),
      settings.embed,
      { seed: settings.seed ?? 0 },
    );
    report.accuracy = {
      encoder: settings.encoderName,
      overall: accuracy.overall,
      by_kind: accuracy.byKind,
    };
    accuracy.items.forEach((match, k) => {
      const example = examples[(withOptions[k] as { index: number }).index] as ExampleScore;
      example.predicted_option = match.predictedIndex;
      example.correct = match.correct;
    });
  }
  return {
    ...report,
    intervals: metricIntervals(examples, { seed: settings.seed ?? 0, bleu: bleuOptions }),
  };
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * The report as flat scalar metrics (for tracking and `--json` summaries): names without a
 * prefix; the caller adds `eval/`.
 */
export function scoreMetrics(report: ScoreReport): Record<string, number> {
  const metrics: Record<string, number> = {
    count: report.count,
    bleu: report.bleu.bleu,
    bleu_brevity_penalty: report.bleu.brevity_penalty,
    sacrebleu: report.sacrebleu.score,
  };
  for (const type of ROUGE_TYPES) metrics[type] = report.rouge[type];
  if (report.bertscore) {
    metrics.bertscore_precision = report.bertscore.precision;
    metrics.bertscore_recall = report.bertscore.recall;
    metrics.bertscore_f1 = report.bertscore.f1;
  }
  for (const [name, value] of Object.entries(report.length)) metrics[`length_${name}`] = value;
  for (const [name, value] of Object.entries(report.repetition.rep)) metrics[name] = value;
  metrics.distinct_1 = report.repetition.distinct_1;
  metrics.distinct_2 = report.repetition.distinct_2;
  metrics.caption_leak_rate = report.caption_leak.rate;
  metrics.reference_caption_leak_rate = report.reference_caption_leak.rate;
  if (report.accuracy) {
    const { overall, by_kind } = report.accuracy;
    metrics.accuracy = overall.accuracy;
    metrics.accuracy_ci_low = overall.low;
    metrics.accuracy_ci_high = overall.high;
    for (const [kind, tally] of Object.entries(by_kind))
      metrics[`accuracy_${kind}`] = tally.accuracy;
  }
  for (const metric of INTERVAL_METRICS) {
    const interval = report.intervals.intervals[metric];
    if (!interval) continue;
    const names = intervalMetricNames(metric);
    metrics[names.low] = interval.low;
    metrics[names.high] = interval.high;
  }
  const { truncated_share, ...controlled } = report.length_controlled;
  metrics.lc_truncated_share = truncated_share;
  for (const [name, value] of Object.entries(controlled)) {
    if (value !== undefined) metrics[`lc_${name}`] = value;
  }
  return metrics;
}
