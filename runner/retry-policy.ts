/**
 * The one retry mechanism: an attempt budget, exponential backoff (with full jitter, so that
 * callers hit by the same outage do not come back in lockstep), and the server's own word on
 * how long to wait (Retry-After, OpenAI's retry-after-ms, Gemini's RetryInfo) winning over the
 * backoff. Each caller keeps its numbers in one constant next to its client (what it retries
 * stays the caller's: it alone knows which answers are worth another attempt).
 */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** The ceiling of the wait after the first failure; it doubles after each further one. */
  baseDelayMs: number;
  /** The ceiling never grows past this. */
  maxDelayMs: number;
  /**
   * `full`: a uniform draw in [0, ceiling] (AWS's "full jitter"), for clients that many callers
   * share. `none`: the ceiling itself, for a lone caller waiting out a known start-up (a Ray head
   * that is not ready yet), where the total wait matters more than the spread.
   */
  jitter: 'full' | 'none';
}

/** Time, waiting and chance, injectable so that tests run on a fake clock. */
export interface RetryClock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

export const systemClock: RetryClock = {
  now: () => Date.now(),
  sleep,
  random: () => Math.random(),
};

/**
 * How long to wait after failed attempt number `attempt` (1 for the wait after the first one):
 * the server's `retryAfterMs` when it said so, else the policy's backoff.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'jitter'>,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.max(0, retryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return policy.jitter === 'full' ? Math.round(random() * ceiling) : ceiling;
}

/**
 * Retry-After is either delay-seconds (digits only; a fraction is tolerated) or an HTTP-date
 * (RFC 9110 §10.2.3); anything else is no advice. A date in the past means now.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Date.parse takes shapes no HTTP-date has (a bare "1" is a year); insist on a weekday or month.
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait a response's headers ask for: OpenAI's `retry-after-ms` (more precise than the
 * standard header, and sent beside it), else `Retry-After`.
 */
export function retryAfterFromHeaders(
  headers: { get(name: string): string | null } | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const precise = headers.get('retry-after-ms')?.trim();
  if (precise && /^\d+(\.\d+)?$/.test(precise)) return Math.round(Number(precise));
  return parseRetryAfter(headers.get('retry-after'), now);
}

/** What one attempt came to, as its caller judges it: `T` when final, the failure `F` when not. */
export type AttemptVerdict<T, F = T> =
  /** Done, well or badly: no other attempt can change it. */
  | { verdict: 'final'; value: T }
  /** Worth another attempt after the backoff, or after what the server asked for. */
  | { verdict: 'retry'; value: F; retryAfterMs?: number }
  /** Worth another attempt at once (a corrected prompt, a restart from byte 0); it still counts. */
  | { verdict: 'retry-now'; value: F };

export type RetryOutcome<T, F = T> =
  | { kind: 'final'; value: T; attempts: number }
  /** The budget ran out; `value` is what the last attempt came to. */
  | { kind: 'exhausted'; value: F; attempts: number }
  /** The signal aborted before an attempt or during a wait. */
  | { kind: 'cancelled'; attempts: number };

export interface RetryOptions {
  clock?: RetryClock;
  signal?: AbortSignal;
  /** Told each wait before it starts (a shared rate limiter pauses its other callers). */
  onWait?: (ms: number, attempt: number) => void;
}

/** Runs `attempt` (numbered from 1) until it is final, the budget runs out, or the signal aborts. */
export async function retrying<T, F = T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<AttemptVerdict<T, F>>,
  options: RetryOptions = {},
): Promise<RetryOutcome<T, F>> {
  const clock = options.clock ?? systemClock;
  const maxAttempts = Math.max(1, policy.maxAttempts);
  let last: F | undefined;
  for (let n = 1; n <= maxAttempts; n++) {
    if (options.signal?.aborted) return { kind: 'cancelled', attempts: n - 1 };
    const verdict = await attempt(n);
    if (verdict.verdict === 'final') return { kind: 'final', value: verdict.value, attempts: n };
    last = verdict.value;
    if (n === maxAttempts || verdict.verdict === 'retry-now') continue;
    const wait = retryDelayMs(n, verdict.retryAfterMs, policy, () => clock.random());
    options.onWait?.(wait, n);
    try {
      await clock.sleep(wait, options.signal);
    } catch {
      return { kind: 'cancelled', attempts: n };
    }
  }
  return { kind: 'exhausted', value: last as F, attempts: maxAttempts };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
