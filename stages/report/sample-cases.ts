import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../../runner/canonical-json.ts';
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

/** One line of the evaluate stage's `scored.jsonl`. */
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

export const SCORED_FILE = 'scored.jsonl';

export async function pickSampleCases(
  rows: readonly Table1Row[],
  evaluateDirs: ReadonlyMap<string, string>,
  count = 3,
): Promise<SampleCase[]> {
  const answered: { row: Table1Row; lines: Map<string, ScoredLine> }[] = [];
  for (const row of rows) {
    const dir = evaluateDirs.get(row.variant);
    if (!dir) continue;
    answered.push({ row, lines: await readScored(join(dir, SCORED_FILE)) });
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
async function readScored(file: string): Promise<Map<string, ScoredLine>> {
  const lines = new Map<string, ScoredLine>();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return lines;
  }
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    const line = value as Partial<ScoredLine>;
    if (
      typeof line.id !== 'string' ||
      typeof line.question !== 'string' ||
      typeof line.reference !== 'string' ||
      typeof line.prediction !== 'string'
    ) {
      continue;
    }
    lines.set(line.id, line as ScoredLine);
  }
  return lines;
}
