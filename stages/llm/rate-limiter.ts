import { type RetryClock, systemClock } from '../../runner/retry-policy.ts';

/**
 * Client-side limits of one provider: requests and tokens per window (a sliding window log, so
 * no window ever sees more than the quota, unlike a token bucket that allows a double burst at
 * the boundary) and a concurrency cap. A 429 with Retry-After pauses every caller of the
 * provider, not only the one that got it: the quota is shared.
 */
export interface RateLimits {
  requestsPerWindow?: number;
  tokensPerWindow?: number;
  concurrency: number;
  /** 60 s for the spec's per-minute limits; shorter in benches. */
  windowMs: number;
  /**
   * Slack added to the window, because the server stamps a request when it arrives, a little
   * after the client sent it; without it a burst at the window edge can overrun by one.
   */
  marginMs?: number;
  /** Time and waiting; the system's unless a test drives a fake clock. */
  clock?: RetryClock;
}

/** A granted slot: report the real token count when known, then release. */
export interface RateLimitPermit {
  settleTokens(actual: number): void;
  release(): void;
}

interface WindowEntry {
  at: number;
  tokens: number;
}

export class RateLimiter {
  readonly #limits: RateLimits;
  readonly #entries: WindowEntry[] = [];
  #active = 0;
  #pausedUntil = 0;
  readonly #waiters: (() => void)[] = [];

  readonly #clock: RetryClock;

  constructor(limits: RateLimits) {
    this.#limits = limits;
    this.#clock = limits.clock ?? systemClock;
  }

  /** Waits for a concurrency slot and window room for one request of `estimatedTokens`. */
  async acquire(estimatedTokens: number, signal: AbortSignal): Promise<RateLimitPermit> {
    for (;;) {
      signal.throwIfAborted();
      const waitMs = this.#waitFor(estimatedTokens);
      if (waitMs === 0) break;
      await this.#sleepUntilWoken(waitMs, signal);
    }
    const entry: WindowEntry = { at: this.#clock.now(), tokens: estimatedTokens };
    this.#entries.push(entry);
    this.#active++;
    let released = false;
    return {
      settleTokens: (actual) => {
        entry.tokens = actual;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#wakeAll();
      },
    };
  }

  /** Called on a 429 that says how long to wait: nobody sends to this provider before then. */
  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + ms);
  }

  /** 0 when a request may start now, else how long until something may have changed. */
  #waitFor(tokens: number): number {
    const now = this.#clock.now();
    if (this.#pausedUntil > now) return this.#pausedUntil - now;
    if (this.#active >= this.#limits.concurrency) return Number.POSITIVE_INFINITY;
    const span = this.#limits.windowMs + (this.#limits.marginMs ?? 0);
    while (this.#entries.length > 0 && (this.#entries[0] as WindowEntry).at <= now - span) {
      this.#entries.shift();
    }
    const requests = this.#limits.requestsPerWindow;
    if (requests !== undefined && this.#entries.length >= requests) {
      const oldest = this.#entries[this.#entries.length - requests] as WindowEntry;
      return oldest.at + span - now;
    }
    const tokenLimit = this.#limits.tokensPerWindow;
    if (tokenLimit !== undefined && this.#entries.length > 0) {
      let used = 0;
      for (const entry of this.#entries) used += entry.tokens;
      // A single request larger than the whole budget still goes, alone in its window.
      if (used + tokens > tokenLimit) {
        let freed = used;
        for (const entry of this.#entries) {
          freed -= entry.tokens;
          if (freed + tokens <= tokenLimit) return entry.at + span - now;
        }
      }
    }
    return 0;
  }

  #sleepUntilWoken(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // The clock's sleep is cancelled when a release wakes us first, so no timer outlives it.
      const sleeping = new AbortController();
      let settled = false;
      const onAbort = () => settle(signal.reason);
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        sleeping.abort();
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      // Infinity means "until a slot is released": the release wakes us.
      if (Number.isFinite(ms)) {
        this.#clock.sleep(Math.max(1, ms), AbortSignal.any([signal, sleeping.signal])).then(
          () => settle(),
          () => settle(signal.aborted ? signal.reason : undefined),
        );
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(() => settle());
    });
  }

  #wakeAll(): void {
    const waiters = this.#waiters.splice(0);
    for (const wake of waiters) wake();
  }
}

const sharedLimiters = new Map<string, RateLimiter>();

/**
 * One limiter per provider endpoint and model in this process, so that stages running side by
 * side (generate-qa and distractors of two variants) share one quota.
 */
export function sharedRateLimiter(identity: string, limits: RateLimits): RateLimiter {
  // A fake clock is a test's own: its limiter is never shared with another caller.
  if (limits.clock !== undefined) return new RateLimiter(limits);
  const key = `${identity}\u0000${JSON.stringify(limits)}`;
  let limiter = sharedLimiters.get(key);
  if (!limiter) {
    limiter = new RateLimiter(limits);
    sharedLimiters.set(key, limiter);
  }
  return limiter;
}
