import { join } from 'node:path';
import {
  BOOTSTRAP_RESAMPLES,
  CONFIDENCE_LEVEL,
  fullScore,
  type Interval,
  percentileInterval,
  type QuestionRows,
  resampledScores,
  resampleIndices,
} from '../evaluate/bootstrap.ts';
import {
  type ExampleStatistics,
  type IntervalMetric,
  questionRows,
} from '../evaluate/metric-intervals.ts';
import {
  approximateRandomisation,
  holmAdjust,
  mcnemarExact,
  type PairedTest,
  RANDOMISATION_TRIALS,
  SIGNIFICANCE_LEVEL,
} from '../evaluate/significance.ts';
import { readJsonlLines } from '../shared/jsonl-file.ts';
import type { ReplicateSpread } from './replicate-groups.ts';
import { PER_ITEM_FILES } from './sample-cases.ts';
import type { VariantResult } from './sweep-results.ts';
import { type ColumnId, TABLE_1_COLUMNS, type Table1 } from './table-1.ts';

/**
 * The statistics beside Table 1: per row, 95% bootstrap intervals over the test questions
 * (replicates pooled per question), the replicates' spread, the verbosity figures, and the
 * paired comparison against a reference row with Holm's correction over every comparison in
 * the table. Everything is read from the evaluate stage's per-question lines; nothing is
 * scored again (BERTScore per question included).
 */
export interface TableStatistics {
  method: 'percentile-bootstrap';
  resamples: number;
  level: number;
  seed: number;
  reference?: { variant: string; label: string };
  comparison?: {
    alpha: number;
    /** Comparisons in Holm's family: every (row, metric) with a p-value. */
    family: number;
    trials: number;
  };
  rows: RowStatistics[];
  notes: string[];
}

export interface RowStatistics {
  variant: string;
  label: string;
  /** Distinct evaluations behind the row (replicates); 1 without replicates. */
  n: number;
  /** Questions the intervals are over. */
  questions: number;
  /** Percent, like Table 1. */
  intervals: Partial<Record<ColumnId, Interval>>;
  /** Standard deviation over replicates, percent; only with n > 1. */
  sd: Partial<Record<ColumnId, number>>;
  verbosity: Verbosity;
  /** Against the reference; absent on the reference row itself. */
  comparison?: Partial<Record<ColumnId, ComparisonCell>>;
}

export interface Verbosity {
  /** Mean answer words over mean reference words. */
  lengthRatio?: number;
  /** Share of answers longer than their reference (percent). */
  truncatedShare?: number;
  /** Metrics on answers cut to their reference's length (percent). */
  controlled: Partial<Record<Exclude<ColumnId, 'accuracy'>, number>>;
}

export interface ComparisonCell {
  /** Row minus reference, percentage points. */
  difference: number;
  low: number;
  high: number;
  questions: number;
  test: PairedTest;
  p: number;
  /** Holm-adjusted over the table's family. */
  pHolm: number;
  /** Set when pHolm <= alpha. */
  direction?: 'higher' | 'lower';
}

/** Table 1's columns and the evaluate metrics they are. */
export const COLUMN_METRIC: Record<ColumnId, IntervalMetric> = {
  accuracy: 'accuracy',
  bleu: 'bleu',
  rouge1: 'rouge1',
  rougeL: 'rougeL',
  bertscore: 'bertscore_f1',
};

const CONTROLLED: Record<Exclude<ColumnId, 'accuracy'>, string> = {
  bleu: 'eval/lc_bleu',
  rouge1: 'eval/lc_rouge1',
  rougeL: 'eval/lc_rougeL',
  bertscore: 'eval/lc_bertscore_f1',
};

/** The reference a comparison defaults to: the (first) untuned baseline row. */
export function defaultReference(results: readonly VariantResult[]): string | undefined {
  return results.find((r) => r.baseline)?.variant;
}

interface PooledRow {
  ids: string[];
  rows: Partial<Record<IntervalMetric, QuestionRows>>;
  /** Replicates pooled; McNemar needs one on each side (correct is then 0 or 1). */
  n: number;
}

export async function tableStatistics(
  table: Table1,
  grouped: { results: readonly VariantResult[]; spreads: ReadonlyMap<string, ReplicateSpread> },
  options: { against?: string; resamples?: number; trials?: number } = {},
): Promise<TableStatistics> {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const trials = options.trials ?? RANDOMISATION_TRIALS;
  const notes: string[] = [];
  const referenceName = options.against ?? defaultReference(grouped.results);
  const referenceResult = grouped.results.find((r) => r.variant === referenceName);
  const seed = (referenceResult ?? grouped.results[0])?.evaluate?.seed ?? 0;

  // A row of replicates says so in Table 1 itself: its values are means over n runs.
  for (const row of table.rows) {
    const n = grouped.spreads.get(row.variant)?.n ?? 1;
    if (n > 1) row.label = `${row.label} (n=${n})`;
  }
  const pooled = new Map<string, PooledRow>();
  for (const result of grouped.results) {
    if (result.state.state !== 'evaluated') continue;
    const spread = grouped.spreads.get(result.variant);
    const members = spread ? spread.members : [result];
    const read = await pooledRows(members, result.evaluate?.bleuSmooth ?? false);
    if (typeof read === 'string') notes.push(`${labelOf(table, result.variant)}: ${read}`);
    else pooled.set(result.variant, read);
  }

  const rows: RowStatistics[] = [];
  for (const row of table.rows) {
    const result = grouped.results.find((r) => r.variant === row.variant);
    const data = pooled.get(row.variant);
    if (!result || !data) continue;
    const spread = grouped.spreads.get(row.variant);
    const intervals: RowStatistics['intervals'] = {};
    const indices = resampleIndices(data.ids.length, resamples, seed);
    for (const column of TABLE_1_COLUMNS) {
      const rowsOf = data.rows[COLUMN_METRIC[column.id]];
      if (rowsOf)
        intervals[column.id] = percent(percentileInterval(resampledScores(rowsOf, indices)));
    }
    const missing = TABLE_1_COLUMNS.filter(
      (c) => row.values[c.id] !== undefined && intervals[c.id] === undefined,
    );
    if (missing.length > 0) {
      notes.push(
        `${row.label}: no per-question ${missing.map((c) => c.title).join(', ')} in its evaluation (an evaluate stage before version 2?), so no interval or test for it; \`dermatune run\` re-evaluates it`,
      );
    }
    const sd: RowStatistics['sd'] = {};
    if (spread && spread.n > 1) {
      for (const column of TABLE_1_COLUMNS) {
        const value = spread.sd[column.metric];
        if (value !== undefined) sd[column.id] = value * 100;
      }
    }
    if (spread && spread.missing.length > 0) {
      notes.push(
        `${row.label}: ${spread.n} of ${spread.n + spread.missing.length} replicates evaluated (missing: ${spread.missing.join(', ')})`,
      );
    }
    rows.push({
      variant: row.variant,
      label: row.label,
      n: spread?.n ?? 1,
      questions: data.ids.length,
      intervals,
      sd,
      verbosity: verbosityOf(result.metrics),
    });
  }

  const statistics: TableStatistics = {
    method: 'percentile-bootstrap',
    resamples,
    level: CONFIDENCE_LEVEL,
    seed,
    rows,
    notes,
  };
  if (referenceName === undefined) {
    notes.push('No untuned baseline among the rows: pass --against <variant> to test differences');
    return statistics;
  }
  const referenceRow = table.rows.find((r) => r.variant === referenceName);
  const reference = pooled.get(referenceName);
  if (!referenceRow || !reference) {
    notes.push(`The reference ${referenceName} is not evaluated yet: no paired comparison`);
    return statistics;
  }
  statistics.reference = { variant: referenceName, label: referenceRow.label };
  const cells: { row: RowStatistics; column: ColumnId; cell: ComparisonCell }[] = [];
  for (const row of rows) {
    if (row.variant === referenceName) continue;
    const data = pooled.get(row.variant) as PooledRow;
    const shared = sharedQuestions(reference.ids, data.ids);
    if (shared.length < reference.ids.length || shared.length < data.ids.length) {
      notes.push(
        `${row.label} is compared with ${referenceRow.label} on the ${shared.length} questions both answered`,
      );
    }
    if (shared.length === 0) continue;
    const indices = resampleIndices(shared.length, resamples, seed);
    row.comparison = {};
    for (const column of TABLE_1_COLUMNS) {
      const metric = COLUMN_METRIC[column.id];
      const a = data.rows[metric];
      const b = reference.rows[metric];
      if (!a || !b) continue;
      const ours = subset(a, data.ids, shared);
      const theirs = subset(b, reference.ids, shared);
      const cell = compare(ours, theirs, indices, {
        mcnemar: metric === 'accuracy' && data.n === 1 && reference.n === 1,
        trials,
        seed: `${seed}:${row.variant}:${metric}`,
      });
      row.comparison[column.id] = cell;
      cells.push({ row, column: column.id, cell });
    }
  }
  const adjusted = holmAdjust(cells.map((c) => c.cell.p));
  cells.forEach(({ cell }, i) => {
    cell.pHolm = adjusted[i] as number;
    if (cell.pHolm <= SIGNIFICANCE_LEVEL && cell.difference !== 0) {
      cell.direction = cell.difference > 0 ? 'higher' : 'lower';
    }
  });
  statistics.comparison = { alpha: SIGNIFICANCE_LEVEL, family: cells.length, trials };
  return statistics;
}

/** The mark a Table 1 cell carries: ▲ or ▼ when it differs from the reference after Holm. */
export function significanceMark(table: Table1, variant: string, column: ColumnId): string {
  const row = table.statistics?.rows.find((r) => r.variant === variant);
  const direction = row?.comparison?.[column]?.direction;
  return direction === 'higher' ? '▲' : direction === 'lower' ? '▼' : '';
}

/** The one line that explains the marks, or nothing when there was no comparison. */
export function marksLegend(table: Table1): string | undefined {
  const statistics = table.statistics;
  if (!statistics?.reference || !statistics.comparison?.family) return undefined;
  const { family, alpha, trials } = statistics.comparison;
  return `▲/▼: higher/lower than ${statistics.reference.label} at p <= ${alpha} after Holm's correction over the ${family} comparisons in this table (paired over the same test questions; accuracy by McNemar's exact test, the others by approximate randomisation with ${trials.toLocaleString('en')} trials).`;
}

function compare(
  ours: QuestionRows,
  theirs: QuestionRows,
  indices: Uint32Array,
  options: { mcnemar: boolean; trials: number; seed: string },
): ComparisonCell {
  const a = resampledScores(ours, indices);
  const b = resampledScores(theirs, indices);
  const diffs = a.map((value, r) => value - (b[r] as number));
  const interval = percentileInterval(diffs);
  const p = options.mcnemar
    ? mcnemarExact(...answeredCorrectly(ours, theirs)).pValue
    : approximateRandomisation(ours, theirs, { trials: options.trials, seed: options.seed });
  return {
    difference: (fullScore(ours) - fullScore(theirs)) * 100,
    low: interval.low * 100,
    high: interval.high * 100,
    questions: ours.n,
    test: options.mcnemar ? 'mcnemar-exact' : 'approximate-randomisation',
    p,
    pHolm: p,
  };
}

/** Accuracy rows are [correct, counted]: the correct flags of the questions both counted. */
function answeredCorrectly(ours: QuestionRows, theirs: QuestionRows): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ours.n; i++) {
    if (ours.rows[2 * i + 1] === 1 && theirs.rows[2 * i + 1] === 1) {
      a.push(ours.rows[2 * i] as number);
      b.push(theirs.rows[2 * i] as number);
    }
  }
  return [a, b];
}

/**
 * The per-question rows of a row's evaluations: one evaluation as it is, replicates
 * averaged question by question over the questions all of them answered (averaging BLEU's
 * statistics pools the replicates' counts: corpus BLEU over all their answers).
 */
async function pooledRows(
  members: readonly VariantResult[],
  bleuSmooth: boolean,
): Promise<PooledRow | string> {
  const evaluations: Map<string, ExampleStatistics>[] = [];
  for (const member of members) {
    const dir = member.sources?.evaluateDir;
    if (!dir) return 'its evaluation has no per-question lines';
    const read = await readPerItemLines(dir);
    if (!read.ok) return `cannot read its per-question scores (${read.error.message})`;
    const byId = new Map<string, ExampleStatistics>();
    for (const { value } of read.value) {
      const example = asExample(value);
      if (example) byId.set(example.id, example);
    }
    evaluations.push(byId);
  }
  const first = evaluations[0];
  if (!first) return 'no evaluation';
  const ids = [...first.keys()].filter((id) => evaluations.every((e) => e.has(id)));
  const perMember = evaluations.map((e) =>
    questionRows(
      ids.map((id) => e.get(id) as ExampleStatistics),
      { smooth: bleuSmooth },
    ),
  );
  const rows: PooledRow['rows'] = {};
  for (const metric of Object.keys(perMember[0] ?? {}) as IntervalMetric[]) {
    const all = perMember.map((m) => m[metric]);
    if (all.some((r) => r === undefined)) continue;
    const present = all as QuestionRows[];
    const template = present[0] as QuestionRows;
    const sum = new Float64Array(template.rows.length);
    for (const r of present)
      for (let k = 0; k < sum.length; k++) sum[k] = (sum[k] as number) + (r.rows[k] as number);
    for (let k = 0; k < sum.length; k++) sum[k] = (sum[k] as number) / present.length;
    rows[metric] = { metric: template.metric, n: template.n, rows: sum };
  }
  return { ids, rows, n: members.length };
}

/** The first per-item file the evaluation has (sample-cases.ts names the accepted ones). */
async function readPerItemLines(dir: string): ReturnType<typeof readJsonlLines> {
  let read: Awaited<ReturnType<typeof readJsonlLines>> | undefined;
  for (const name of PER_ITEM_FILES) {
    read = await readJsonlLines(join(dir, name));
    if (read.ok) return read;
  }
  return read as Awaited<ReturnType<typeof readJsonlLines>>;
}

function asExample(value: unknown): ExampleStatistics | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const line = value as Record<string, unknown>;
  if (typeof line.id !== 'string') return undefined;
  const number = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const stats =
    Array.isArray(line.bleu_stats) && line.bleu_stats.every((x) => typeof x === 'number')
      ? (line.bleu_stats as number[])
      : undefined;
  return {
    id: line.id,
    rouge1: number(line.rouge1) ?? Number.NaN,
    rougeL: number(line.rougeL) ?? Number.NaN,
    ...(number(line.bertscore_f1) !== undefined && { bertscore_f1: line.bertscore_f1 as number }),
    ...(typeof line.correct === 'boolean' && { correct: line.correct }),
    ...(stats && { bleu_stats: stats }),
  };
}

function sharedQuestions(reference: readonly string[], other: readonly string[]): string[] {
  const present = new Set(other);
  return reference.filter((id) => present.has(id));
}

function subset(data: QuestionRows, ids: readonly string[], keep: readonly string[]): QuestionRows {
  if (ids.length === keep.length && ids.every((id, i) => id === keep[i])) return data;
  const position = new Map(ids.map((id, i) => [id, i]));
  const width = data.metric.width;
  const rows = new Float64Array(keep.length * width);
  keep.forEach((id, i) => {
    const from = (position.get(id) as number) * width;
    rows.set(data.rows.subarray(from, from + width), i * width);
  });
  return { metric: data.metric, n: keep.length, rows };
}

function verbosityOf(metrics: Record<string, number>): Verbosity {
  const controlled: Verbosity['controlled'] = {};
  for (const [column, metric] of Object.entries(CONTROLLED)) {
    const value = metrics[metric];
    if (typeof value === 'number') controlled[column as keyof typeof CONTROLLED] = value * 100;
  }
  const ratio = metrics['eval/length_words_ratio_to_reference'];
  const cut = metrics['eval/lc_truncated_share'];
  return {
    ...(typeof ratio === 'number' && { lengthRatio: ratio }),
    ...(typeof cut === 'number' && { truncatedShare: cut * 100 }),
    controlled,
  };
}

function percent(interval: Interval): Interval {
  return { low: interval.low * 100, high: interval.high * 100 };
}

function labelOf(table: Table1, variant: string): string {
  return table.rows.find((r) => r.variant === variant)?.label ?? variant;
}
