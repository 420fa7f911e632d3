import { fail, ok, type Result } from '../../runner/result.ts';
import { readJsonlLines } from '../shared/jsonl-file.ts';

/**
 * One line of a file `dermatune score` reads: a model's answer and the reference answer,
 * and optionally the multiple-choice options for the semantic-matching accuracy. Extra
 * fields (question, image, timing) are allowed and ignored.
 */
export interface PredictionLine {
  /** Identity for per-example output and the option order; defaults to `line-<n>`. */
  id: string;
  prediction: string;
  /** One reference answer or several. */
  reference: string | string[];
  options?: string[];
  answer_index?: number;
  /** Question kind for the accuracy breakdown (`general` / `grounded` from generate-qa). */
  kind?: string;
}

export interface PredictionsFailure {
  reason: 'missing-file' | 'invalid-line' | 'empty';
  message: string;
  /** 1-based line of the first offending line, when there is one. */
  line?: number;
}

export async function readPredictionLines(
  file: string,
): Promise<Result<PredictionLine[], PredictionsFailure>> {
  const read = await readJsonlLines(file);
  if (!read.ok) return fail({ reason: 'missing-file', message: read.error.message });
  const lines: PredictionLine[] = [];
  for (const { line, value } of read.value) {
    const parsed = toPredictionLine(value, line);
    if (typeof parsed === 'string') {
      return fail({ reason: 'invalid-line', message: `${file}:${line}: ${parsed}`, line });
    }
    lines.push(parsed);
  }
  if (lines.length === 0) return fail({ reason: 'empty', message: `${file}: no lines to score` });
  return ok(lines);
}

/** The line, or what is wrong with it. */
export function toPredictionLine(value: unknown, line: number): PredictionLine | string {
  if (value === undefined) return 'not valid JSON';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'expected a JSON object';
  }
  const v = value as Record<string, unknown>;
  if (typeof v.prediction !== 'string') return '`prediction` must be a string';
  const reference = v.reference;
  const referenceOk =
    typeof reference === 'string' ||
    (Array.isArray(reference) &&
      reference.length > 0 &&
      reference.every((r) => typeof r === 'string'));
  if (!referenceOk) return '`reference` must be a string or a non-empty list of strings';
  const out: PredictionLine = {
    id: typeof v.id === 'string' ? v.id : `line-${line}`,
    prediction: v.prediction,
    reference: reference as string | string[],
  };
  if (v.options !== undefined || v.answer_index !== undefined) {
    if (!Array.isArray(v.options) || !v.options.every((o) => typeof o === 'string')) {
      return '`options` must be a list of strings';
    }
    if (v.options.length < 2) return '`options` needs at least two entries';
    if (
      typeof v.answer_index !== 'number' ||
      !Number.isInteger(v.answer_index) ||
      v.answer_index < 0 ||
      v.answer_index >= v.options.length
    ) {
      return '`answer_index` must be the index of the correct entry of `options`';
    }
    out.options = v.options as string[];
    out.answer_index = v.answer_index;
  }
  if (v.kind !== undefined) {
    if (typeof v.kind !== 'string') return '`kind` must be a string';
    out.kind = v.kind;
  }
  return out;
}
