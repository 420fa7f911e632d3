import {
  PAPER_ALL_TRAIN_IMAGES,
  PAPER_CITATION,
  PAPER_TABLE_1,
  type PaperRow,
} from './paper-table-1.ts';
import type { ScoringSetup, VariantResult } from './sweep-results.ts';
import type { TableStatistics } from './table-statistics.ts';

/**
 * The paper's Table 1 for a sweep, as data: one row per variant, the five published metrics
 * as percentages, the best value per column marked. Renderers (text, Markdown, CSV, HTML)
 * and plots all read this one model, so they can never disagree.
 */
export interface Table1 {
  spec: string;
  columns: readonly Table1Column[];
  rows: Table1Row[];
  /** Further figures per variant that the paper lacks (repetition, caption leaks, ...). */
  extraColumns: readonly ExtraColumn[];
  /** Distinct scoring setups across the evaluated variants (normally exactly one). */
  scoring: ScoringSetup[];
  /** Why a cell shows "—": every missing value is explained here. */
  notes: string[];
  /** Present with --compare-paper. */
  paper?: { citation: string; unmatched: PaperRow[] };
  /** Intervals, replicate spread, verbosity and the paired comparison (table-statistics.ts). */
  statistics?: TableStatistics;
}

export type ColumnId = 'accuracy' | 'bleu' | 'rouge1' | 'rougeL' | 'bertscore';

export interface Table1Column {
  id: ColumnId;
  title: string;
  /** The evaluate stage's metric, a fraction in 0..1. */
  metric: string;
  /** What a 0 means for this metric: the note a column that is 0 in every row gets. */
  zeroMeans: string;
}

export const TABLE_1_COLUMNS: readonly Table1Column[] = [
  {
    id: 'accuracy',
    title: 'Accuracy',
    metric: 'eval/accuracy',
    zeroMeans:
      'for every test question the encoder found the answer closer to a distractor than to the correct option',
  },
  {
    id: 'bleu',
    title: 'BLEU',
    metric: 'eval/bleu',
    zeroMeans:
      'corpus BLEU multiplies the 1- to 4-gram precisions without smoothing, so it is 0 as soon as one order (in practice the 4-grams) has no match between the answers and their references',
  },
  {
    id: 'rouge1',
    title: 'ROUGE-1',
    metric: 'eval/rouge1',
    zeroMeans: 'no answer shares a single word with its reference',
  },
  {
    id: 'rougeL',
    title: 'ROUGE-L',
    metric: 'eval/rougeL',
    zeroMeans: 'no answer shares a single word with its reference',
  },
  {
    id: 'bertscore',
    title: 'BERTScore',
    metric: 'eval/bertscore_f1',
    zeroMeans:
      "the answers are no closer to their references than BERTScore's baseline of unrelated sentences (rescaled scores are cut at 0)",
  },
];

export interface ExtraColumn {
  id: string;
  title: string;
  /** The evaluate stage's metric; where names differ between versions, the first present wins. */
  metrics: readonly string[];
  /** How a raw metric becomes the shown number. */
  unit: 'percent' | 'as-is';
}

export const EXTRA_COLUMNS: readonly ExtraColumn[] = [
  {
    id: 'accuracy_ci_low',
    title: 'Acc. 95% low',
    metrics: ['eval/accuracy_ci_low'],
    unit: 'percent',
  },
  {
    id: 'accuracy_ci_high',
    title: 'Acc. 95% high',
    metrics: ['eval/accuracy_ci_high'],
    unit: 'percent',
  },
  { id: 'sacrebleu', title: 'sacreBLEU', metrics: ['eval/sacrebleu'], unit: 'as-is' },
  { id: 'rouge2', title: 'ROUGE-2', metrics: ['eval/rouge2'], unit: 'percent' },
  { id: 'rougeLsum', title: 'ROUGE-Lsum', metrics: ['eval/rougeLsum'], unit: 'percent' },
  {
    id: 'bertscore_precision',
    title: 'BERTScore P',
    metrics: ['eval/bertscore_precision'],
    unit: 'percent',
  },
  {
    id: 'bertscore_recall',
    title: 'BERTScore R',
    metrics: ['eval/bertscore_recall'],
    unit: 'percent',
  },
  {
    id: 'answer_words',
    title: 'Answer words',
    metrics: ['eval/length_words_mean', 'eval/answer_length_mean'],
    unit: 'as-is',
  },
  { id: 'distinct_2', title: 'Distinct-2', metrics: ['eval/distinct_2'], unit: 'percent' },
  {
    id: 'repeated_ngrams',
    title: 'Repeated 2-grams',
    metrics: ['eval/rep_2', 'eval/repeated_ngram_share'],
    unit: 'percent',
  },
  {
    id: 'caption_leak_rate',
    title: 'Caption leaks',
    metrics: ['eval/caption_leak_rate'],
    unit: 'percent',
  },
];

export interface Table1Row {
  /** Model-Data as the paper writes it (`QApairs-500`), or the variant's name for a baseline. */
  label: string;
  variant: string;
  axes: Record<string, unknown>;
  supervision?: string;
  trainSize?: number | 'all';
  trainImages?: number;
  baseline: boolean;
  evaluated: boolean;
  /** Percentages, unrounded; undefined shows as "—" with a note. */
  values: Record<ColumnId, number | undefined>;
  best: Record<ColumnId, boolean>;
  extra: Record<string, number | undefined>;
  /** The published row set beside this one (with --compare-paper). */
  paper?: PaperRow;
}

export const MISSING = '—';

/** The paper's names for the supervision types. */
const SUPERVISION_NAMES: Record<string, string> = {
  qa: 'QApairs',
  caption: 'Caption',
  qa_caption: 'QaCaption',
};

export function supervisionName(supervision: string): string {
  return SUPERVISION_NAMES[supervision] ?? supervision;
}

export function buildTable1(
  spec: string,
  results: readonly VariantResult[],
  options: { comparePaper?: boolean } = {},
): Table1 {
  const notes: string[] = [];
  const rows: Table1Row[] = results.map((result) => {
    const values = {} as Record<ColumnId, number | undefined>;
    for (const column of TABLE_1_COLUMNS) {
      const raw = result.metrics[column.metric];
      values[column.id] = typeof raw === 'number' && Number.isFinite(raw) ? raw * 100 : undefined;
    }
    const extra: Record<string, number | undefined> = {};
    for (const column of EXTRA_COLUMNS) {
      const raw = column.metrics.map((m) => result.metrics[m]).find((v) => v !== undefined);
      extra[column.id] =
        typeof raw === 'number' && Number.isFinite(raw)
          ? raw * (column.unit === 'percent' ? 100 : 1)
          : undefined;
    }
    return {
      label: rowLabel(result),
      variant: result.variant,
      axes: result.axes,
      ...(result.supervision !== undefined ? { supervision: result.supervision } : {}),
      ...(result.trainSize !== undefined ? { trainSize: result.trainSize } : {}),
      ...(result.trainImages !== undefined ? { trainImages: result.trainImages } : {}),
      baseline: result.baseline,
      evaluated: result.state.state === 'evaluated',
      values,
      best: { accuracy: false, bleu: false, rouge1: false, rougeL: false, bertscore: false },
      extra,
    };
  });
  disambiguateLabels(rows);
  for (const [index, result] of results.entries()) {
    const row = rows[index] as Table1Row;
    notes.push(...missingNotes(row, result));
  }
  notes.push(...zeroColumnNotes(rows));
  markBest(rows);
  const table: Table1 = {
    spec,
    columns: TABLE_1_COLUMNS,
    rows,
    extraColumns: EXTRA_COLUMNS,
    scoring: distinctScoring(results.filter((r) => r.state.state === 'evaluated')),
    notes,
  };
  if (options.comparePaper) table.paper = { citation: PAPER_CITATION, unmatched: matchPaper(rows) };
  return table;
}

/** Two decimals, as the paper prints them. */
export function formatPercent(value: number | undefined): string {
  return value === undefined ? MISSING : value.toFixed(2);
}

export function describeScoring(setup: ScoringSetup): string {
  const layer =
    setup.bertscoreLayer === undefined
      ? "the model's default layer"
      : `layer ${setup.bertscoreLayer}`;
  const flags = [
    setup.bertscoreRescaled ? 'rescaled with baseline' : 'no baseline rescaling',
    ...(setup.bertscoreIdf ? ['idf weighting'] : []),
  ].join(', ');
  return `BERTScore with ${setup.bertscoreModel ?? 'an unrecorded model'} at ${layer} (${flags}); accuracy by semantic matching with ${setup.encoderModel ?? 'an unrecorded encoder'}`;
}

export const PAPER_SCORING =
  'The paper scored with BERTScore on roberta-large at layer 17, no baseline rescaling, and matched answers to options with a sentence encoder; numbers from other models are not comparable one to one';

function rowLabel(result: VariantResult): string {
  if (result.baseline || result.supervision === undefined) return result.variant;
  const size =
    result.trainImages !== undefined
      ? String(result.trainImages)
      : result.trainSize === undefined
        ? undefined
        : String(result.trainSize);
  return size === undefined
    ? supervisionName(result.supervision)
    : `${supervisionName(result.supervision)}-${size}`;
}

/** Sweeps over other settings (a LoRA rank) would give rows the same Model-Data name. */
function disambiguateLabels(rows: Table1Row[]): void {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
  for (const row of rows) {
    if ((counts.get(row.label) ?? 0) > 1 && row.label !== row.variant) {
      row.label = `${row.label} (${row.variant})`;
    }
  }
}

function missingNotes(row: Table1Row, result: VariantResult): string[] {
  switch (result.state.state) {
    case 'not-evaluated':
      return [
        `${row.label}: not evaluated yet (variant ${row.variant}; \`dermatune run <spec> --only ${row.variant}\` produces it)`,
      ];
    case 'corrupt':
      return [
        `${row.label}: its stored evaluation is corrupt (${result.state.why}); \`dermatune run\` redoes it`,
      ];
    case 'no-evaluate-stage':
      return [`${row.label}: variant ${row.variant} has no evaluate stage`];
    case 'evaluated': {
      const absent = TABLE_1_COLUMNS.filter((c) => row.values[c.id] === undefined);
      return absent.length === 0
        ? []
        : [
            `${row.label}: its evaluation has no ${absent.map((c) => `${c.title} (${c.metric})`).join(', ')}`,
          ];
    }
  }
}

/** A column that is 0 in every evaluated row says nothing about the variants: say why it is 0. */
function zeroColumnNotes(rows: readonly Table1Row[]): string[] {
  return TABLE_1_COLUMNS.flatMap((column) => {
    const values = rows.flatMap((r) =>
      r.values[column.id] === undefined ? [] : [r.values[column.id]],
    );
    return values.length > 0 && values.every((v) => v === 0)
      ? [`${column.title} is 0 in every row: ${column.zeroMeans}.`]
      : [];
  });
}

/** Higher is better in every column; ties at the shown precision are all marked. */
function markBest(rows: Table1Row[]): void {
  for (const column of TABLE_1_COLUMNS) {
    const shown = rows.flatMap((r) => {
      const value = r.values[column.id];
      return value === undefined ? [] : [Number(value.toFixed(2))];
    });
    if (shown.length === 0) continue;
    const best = Math.max(...shown);
    for (const row of rows) {
      const value = row.values[column.id];
      row.best[column.id] = value !== undefined && Number(value.toFixed(2)) === best;
    }
  }
}

function distinctScoring(results: readonly VariantResult[]): ScoringSetup[] {
  const seen = new Map<string, ScoringSetup>();
  for (const result of results) seen.set(JSON.stringify(result.scoring), result.scoring);
  return [...seen.values()];
}

/**
 * Sets each row beside the published row it reproduces: the same supervision and train size,
 * 'all' beside the paper's 2,286, the baseline beside SmolVLM-Instruct. A scaled-down sweep
 * (the demo's 6 and 12 images) is set beside the paper's sizes in the same order (500, 1000);
 * the row's "paper row" column always names which published row it is compared with.
 * Returns the published rows nothing was set beside.
 */
function matchPaper(rows: Table1Row[]): PaperRow[] {
  const used = new Set<PaperRow>();
  const paperSized = (supervision: string) =>
    PAPER_TABLE_1.filter((p) => p.supervision === supervision && p.trainImages !== undefined);
  for (const row of rows) {
    if (row.baseline) {
      const baseline = PAPER_TABLE_1.find((p) => p.baseline);
      if (baseline) {
        row.paper = baseline;
        used.add(baseline);
      }
      continue;
    }
    if (row.supervision === undefined || row.trainSize === undefined) continue;
    const candidates = paperSized(row.supervision);
    const size = row.trainSize;
    let match =
      size === 'all'
        ? candidates.find((p) => p.trainImages === PAPER_ALL_TRAIN_IMAGES)
        : candidates.find((p) => p.trainImages === size);
    if (!match && typeof size === 'number') {
      const ourSizes = [
        ...new Set(
          rows
            .filter((r) => !r.baseline && r.supervision === row.supervision)
            .flatMap((r) => (typeof r.trainSize === 'number' ? [r.trainSize] : [])),
        ),
      ].sort((a, b) => a - b);
      const partial = candidates.filter((p) => p.trainImages !== PAPER_ALL_TRAIN_IMAGES);
      match = partial[ourSizes.indexOf(size)];
    }
    if (match) {
      row.paper = match;
      used.add(match);
    }
  }
  return PAPER_TABLE_1.filter((p) => !used.has(p));
}

export function paperValue(row: PaperRow, column: ColumnId): number {
  return row[column];
}
