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
  /**
   * A failure a run survives (a tracking server that is down: the journal keeps its calls for
   * `dermatune sync`): `preflight` counts it, `run` prints it as a warning and goes on.
   */
  warnOnly?: boolean;
}

/**
 * What a kind's preflight and estimate hooks are given. Checks reach the outside world only
 * through `fetch` (tests pass their own) and stop when `signal` aborts.
 */
export interface PreflightContext {
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  fetch: typeof fetch;
  /**
   * Runs `check` once per key for the whole sweep and shares its result: the ten evaluate
   * stages of a sweep, or three LLM kinds on one model, prove their part with one request.
   */
  once<T>(key: string, check: () => Promise<T>): Promise<T>;
  /** The stored output folder of the node's input `name`, when that input is already stored. */
  storedInput(name: string): string | undefined;
}

/** What one stage that is about to run will buy, as far as can be known before it runs. */
export interface StageEstimate {
  /**
   * Quantities summed over the stages to run, by name (`llm calls`, `input tokens`,
   * `output tokens`, `thought tokens`, `download bytes`); absent when unknown.
   */
  amounts: Record<string, number>;
  /** USD, when the spec prices what the stage buys (an upper bound where the amounts are). */
  usd?: number;
  /** What the figures rest on: a bound, or why a count is unknown before an upstream stage ran. */
  note?: string;
}

/**
 * How a check words a request that threw: the message with its cause, since fetch says only
 * "fetch failed" and the cause says why (`getaddrinfo ENOTFOUND host`, `connect ECONNREFUSED`).
 */
export function describeRequestError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
