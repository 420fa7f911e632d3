/**
 * One proof that an external part of a spec works (a model exists, a token has access, a GPU
 * is big enough), made before a run spends anything. Checks are plain values: each study part
 * contributes its own, and `dermatune preflight` (and `run`, before it starts) prints them and
 * exits 2 when any failed.
 */
export interface PreflightCheck {
  /** The external part: `llm`, `hub`, `encoder`, `mlflow`, `gpu`, ... */
  part: string;
  /** What was checked, as the report line names it: `Gemini model gemini-2.5-flash`. */
  subject: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** One line: what was found, or for a failure what is wrong. */
  detail: string;
  /** The spec setting (dotted path) or environment variable to change when it failed. */
  setting?: string;
}
