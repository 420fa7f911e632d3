import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import { GENERATE_QA_OUTPUT } from '../generate-qa/contract.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { CLEAN_QA_OUTPUT } from './contract.ts';
import { findNearDuplicates, jaccard, normaliseText, tokenSet } from './text-similarity.ts';

/**
 * A row of generate-qa's `qa.jsonl` as clean-qa needs it; every other field the generator wrote
 * (article id, caption, question kind, image path, ...) is carried through unchanged.
 */
export interface QaPair {
  key: string;
  question: string;
  answer: string;
  [field: string]: unknown;
}

export type CleanDropReason =
  | 'malformed'
  | 'empty'
  | 'answer-repeats-question'
  | 'refusal'
  | 'degenerate'
  | 'exact-duplicate'
  | 'near-duplicate';

export interface DroppedPair {
  /** 1-based line in the input file. */
  line: number;
  key?: string;
  reason: CleanDropReason;
  /** For duplicates: the line of the pair that was kept. */
  duplicate_of?: number;
  similarity?: number;
}

export interface CleanQaStats {
  input: number;
  kept: number;
  /** Kept answers whose leading debris `tidyAnswer` removed. */
  tidied: number;
  dropped: Partial<Record<CleanDropReason, number>>;
  images: number;
  similarity: string;
  near_duplicate_threshold: number;
}

export interface CleanQaFailure {
  reason: 'missing-file';
  message: string;
}

export const SIMILARITY_DESCRIPTION =
  'token-set Jaccard of normalised question + answer (NFKC, lower case, split on non-alphanumerics), over all pairs';

/** Openings of an answer that declines instead of answering. */
const REFUSAL =
  /^(sorry\b|i('m| am) (sorry|unable|not able)|i (cannot|can't|can not)\b|as an ai\b|i do not have (enough|sufficient) information)/i;

/** An answer that is mostly the question's own words says nothing. */
const REPEAT_THRESHOLD = 0.9;

/**
 * What a small model under a JSON grammar puts before its answer: closing brackets and
 * punctuation (`][`, `]:`, `, `) and short bracketed tags (`{AZN}`, `[SYNTHETIC]`), seen in a
 * quarter of SmolLM2-135M's answers to the demo's questions. Removed from the start, repeatedly.
 */
const LEADING_DEBRIS = /^\s*(?:\{[^{}]{0,40}\}|\[[^[\]]{0,40}\]|[\]}):;,.*#>|"'`-]+)\s*/;

/** A word trigram this many times is a decoding loop ("2018. 2018. 2018."), not prose. */
const LOOP_TRIGRAM_COUNT = 3;

/** An answer with its leading debris removed and its runs of white space made single spaces. */
export function tidyAnswer(answer: string): string {
  let text = answer;
  for (let before = ''; before !== text; ) {
    before = text;
    text = text.replace(LEADING_DEBRIS, '');
  }
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Whether a (tidied) answer is not prose: it still holds a brace (a template placeholder such as
 * `{{image_description}}`, or JSON debris; clinical English has none), or it loops.
 */
export function isDegenerate(answer: string): boolean {
  if (/[{}]/.test(answer)) return true;
  const words = answer.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const counts = new Map<string, number>();
  for (let i = 0; i + 2 < words.length; i++) {
    const trigram = `${words[i]} ${words[i + 1]} ${words[i + 2]}`;
    const count = (counts.get(trigram) ?? 0) + 1;
    if (count >= LOOP_TRIGRAM_COUNT) return true;
    counts.set(trigram, count);
  }
  return false;
}

/**
 * Tidies each answer first (`tidyAnswer`). Drops, in this order: malformed rows (not an object
 * with string key, question and answer), empty question or answer, inconsistent pairs (the
 * answer repeats the question, or refuses), degenerate answers (`isDegenerate`),
 * exact duplicates (same normalised question and answer) and near duplicates (token-set
 * Jaccard of question + answer at or above the threshold against an earlier kept pair, across
 * all images, since a bank question answered near-identically for two images teaches the model
 * to repeat itself). The first of a group of duplicates is kept; input order is preserved.
 */
export function cleanQaPairs(
  rows: ReadonlyArray<{ line: number; value: unknown }>,
  nearDuplicateThreshold: number,
): { kept: QaPair[]; dropped: DroppedPair[]; stats: CleanQaStats } {
  const dropped: DroppedPair[] = [];
  const candidates: Array<{ line: number; pair: QaPair }> = [];
  const exact = new Map<string, number>();
  const tidiedLines = new Set<number>();
  for (const { line, value } of rows) {
    const read = readPair(value);
    if (!read) {
      const key = (value as { key?: unknown } | null)?.key;
      dropped.push({ line, ...(typeof key === 'string' ? { key } : {}), reason: 'malformed' });
      continue;
    }
    const pair = { ...read, answer: tidyAnswer(read.answer) };
    if (pair.answer !== read.answer) tidiedLines.add(line);
    const question = normaliseText(pair.question);
    const answer = normaliseText(pair.answer);
    const reason: CleanDropReason | undefined =
      question === '' || answer === ''
        ? 'empty'
        : REFUSAL.test(pair.answer.trim())
          ? 'refusal'
          : question.includes(answer) ||
              jaccard(tokenSet(pair.answer), tokenSet(pair.question)) >= REPEAT_THRESHOLD
            ? 'answer-repeats-question'
            : isDegenerate(pair.answer)
              ? 'degenerate'
              : undefined;
    if (reason) {
      dropped.push({ line, key: pair.key, reason });
      continue;
    }
    const exactKey = `${question}\u0000${answer}`;
    const first = exact.get(exactKey);
    if (first !== undefined) {
      dropped.push({ line, key: pair.key, reason: 'exact-duplicate', duplicate_of: first });
      continue;
    }
    exact.set(exactKey, line);
    candidates.push({ line, pair });
  }
  const near = findNearDuplicates(
    candidates.map(({ pair }) => tokenSet(`${pair.question} ${pair.answer}`)),
    nearDuplicateThreshold,
  );
  const nearIndices = new Set(near.map((d) => d.index));
  for (const duplicate of near) {
    const candidate = candidates[duplicate.index] as { line: number; pair: QaPair };
    dropped.push({
      line: candidate.line,
      key: candidate.pair.key,
      reason: 'near-duplicate',
      duplicate_of: (candidates[duplicate.of] as { line: number }).line,
      similarity: Math.round(duplicate.similarity * 1000) / 1000,
    });
  }
  const keptCandidates = candidates.filter((_, i) => !nearIndices.has(i));
  const kept = keptCandidates.map((c) => c.pair);
  dropped.sort((a, b) => a.line - b.line);
  const counts: CleanQaStats['dropped'] = {};
  for (const d of dropped) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
  return {
    kept,
    dropped,
    stats: {
      input: rows.length,
      kept: kept.length,
      tidied: keptCandidates.filter((c) => tidiedLines.has(c.line)).length,
      dropped: counts,
      images: new Set(kept.map((p) => p.key)).size,
      similarity: SIMILARITY_DESCRIPTION,
      near_duplicate_threshold: nearDuplicateThreshold,
    },
  };
}

/** The stage's work on folders: `<qaDir>/qa.jsonl` in, `qa.jsonl`, `dropped.jsonl`, `stats.json` out. */
export async function cleanQaFolder(
  qaDir: string,
  outDir: string,
  nearDuplicateThreshold: number,
): Promise<Result<CleanQaStats, CleanQaFailure>> {
  const lines = await readJsonlLines(join(qaDir, GENERATE_QA_OUTPUT.qa));
  if (!lines.ok) return fail({ reason: 'missing-file', message: lines.error.message });
  const { kept, dropped, stats } = cleanQaPairs(lines.value, nearDuplicateThreshold);
  await writeJsonl(join(outDir, CLEAN_QA_OUTPUT.qa), kept);
  await writeJsonl(join(outDir, CLEAN_QA_OUTPUT.dropped), dropped);
  await writeFile(join(outDir, CLEAN_QA_OUTPUT.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return ok(stats);
}

function readPair(value: unknown): QaPair | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const row = value as Record<string, unknown>;
  if (typeof row.key !== 'string' || row.key === '') return undefined;
  if (typeof row.question !== 'string' || typeof row.answer !== 'string') return undefined;
  return row as QaPair;
}
