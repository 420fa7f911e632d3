import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { EVALUATE_OUTPUT } from '../evaluate/contract.ts';
import { GENERATE_OUTPUT } from '../generate/contract.ts';
import type { SampleSources } from './sweep-results.ts';
import type { Table1Row } from './table-1.ts';

/**
 * A few test items with every variant's answer side by side, as the paper's figures show
 * them. The items are picked the same way on every run (ordered by a hash of their id) from
 * those every evaluated variant answered, covering as many question kinds as it can.
 */
export interface SampleCase {
  id: string;
  question: string;
  reference: string;
  kind?: string;
  /** Absolute path of the test image, as the evaluate stage recorded it. */
  image?: string;
  answers: SampleAnswer[];
}

export interface SampleAnswer {
  variant: string;
  label: string;
  prediction: string;
  rougeL?: number;
  correct?: boolean;
}

/** One test item as the report needs it, assembled from the evaluate and generate outputs. */
export interface ScoredLine {
  id: string;
  question: string;
  reference: string;
  prediction: string;
  image?: string;
  kind?: string;
  rougeL?: number;
  correct?: boolean;
}

/**
 * The evaluate stage's per-item file: `scored.jsonl` (everything in one line) or
 * `examples.jsonl` (scores only; question, answer and image then come from the generate
 * stage's predictions.jsonl, joined on `id`).
 */
export const PER_ITEM_FILES = ['scored.jsonl', EVALUATE_OUTPUT.examples] as const;

export async function pickSampleCases(
  rows: readonly Table1Row[],
  sources: ReadonlyMap<string, SampleSources>,
  count = 3,
): Promise<SampleCase[]> {
  const answered: { row: Table1Row; lines: Map<string, ScoredLine> }[] = [];
  for (const row of rows) {
    const source = sources.get(row.variant);
    if (!source) continue;
    answered.push({ row, lines: await readItems(source) });
  }
  const first = answered[0];
  if (!first) return [];
  const common = [...first.lines.keys()].filter((id) => answered.every((a) => a.lines.has(id)));
  const ordered = common
    .map((id) => ({ id, order: sha256Hex(`dermatune-sample:${id}`) }))
    .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
    .map((entry) => entry.id);
  const chosen: string[] = [];
  const kinds = new Set<string | undefined>();
  for (const id of ordered) {
    if (chosen.length === count) break;
    const kind = first.lines.get(id)?.kind;
    if (kinds.has(kind)) continue;
    kinds.add(kind);
    chosen.push(id);
  }
  for (const id of ordered) {
    if (chosen.length === count) break;
    if (!chosen.includes(id)) chosen.push(id);
  }
  return chosen.map((id) => {
    const line = first.lines.get(id) as ScoredLine;
    return {
      id,
      question: line.question,
      reference: line.reference,
      ...(line.kind !== undefined ? { kind: line.kind } : {}),
      ...(line.image !== undefined ? { image: line.image } : {}),
      answers: answered.map(({ row, lines }) => {
        const answer = lines.get(id) as ScoredLine;
        return {
          variant: row.variant,
          label: row.label,
          prediction: answer.prediction,
          ...(typeof answer.rougeL === 'number' ? { rougeL: answer.rougeL } : {}),
          ...(typeof answer.correct === 'boolean' ? { correct: answer.correct } : {}),
        };
      }),
    };
  });
}

/** Lines that are not the expected shape are left out: a sample is an illustration, not a score. */
async function readItems(source: SampleSources): Promise<Map<string, ScoredLine>> {
  let scores: Record<string, unknown>[] = [];
  for (const name of PER_ITEM_FILES) {
    scores = await readObjects(join(source.evaluateDir, name));
    if (scores.length > 0) break;
  }
  const predictions = new Map<string, Record<string, unknown>>();
  if (source.predictionsDir) {
    for (const line of await readObjects(
      join(source.predictionsDir, GENERATE_OUTPUT.predictions),
    )) {
      if (typeof line.id === 'string') predictions.set(line.id, line);
    }
  }
  const items = new Map<string, ScoredLine>();
  for (const score of scores) {
    if (typeof score.id !== 'string') continue;
    const line = { ...predictions.get(score.id), ...score };
    const reference = Array.isArray(line.reference) ? line.reference[0] : line.reference;
    if (
      typeof line.question !== 'string' ||
      typeof reference !== 'string' ||
      typeof line.prediction !== 'string'
    ) {
      continue;
    }
    const image =
      typeof line.image !== 'string'
        ? undefined
        : isAbsolute(line.image) || !source.imageRoot
          ? line.image
          : join(source.imageRoot, line.image);
    items.set(score.id, {
      id: score.id,
      question: line.question,
      reference,
      prediction: line.prediction,
      ...(image !== undefined ? { image } : {}),
      ...(typeof line.kind === 'string' ? { kind: line.kind } : {}),
      ...(typeof line.rougeL === 'number' ? { rougeL: line.rougeL } : {}),
      ...(typeof line.correct === 'boolean' ? { correct: line.correct } : {}),
    });
  }
  return items;
}

async function readObjects(file: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const objects: Record<string, unknown>[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(raw);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        objects.push(value as Record<string, unknown>);
      }
    } catch {
      // A broken line only costs the report one candidate sample.
    }
  }
  return objects;
}
