import { describe, expect, it } from 'vitest';
import {
  type AttemptVerdict,
  parseRetryAfter,
  type RetryClock,
  type RetryPolicy,
  retryAfterFromHeaders,
  retryDelayMs,
  retrying,
} from '../../runner/retry-policy.ts';
import { retryInfoDelayMs } from '../../stages/llm/gemini-api-errors.ts';

/** A clock that only moves when the code under test sleeps; it records every wait. */
function fakeClock(draws: number[] = []): RetryClock & { waits: number[]; at: number } {
  const clock = {
    at: 0,
    waits: [] as number[],
    now: () => clock.at,
    random: () => draws.shift() ?? 0.5,
    sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      clock.waits.push(ms);
      clock.at += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  jitter: 'none',
  ...over,
});

/** An attempt function that answers the given verdicts in order and counts its calls. */
function scripted<T>(verdicts: AttemptVerdict<T, string>[]) {
  const calls: number[] = [];
  const attempt = async (n: number) => {
    calls.push(n);
    const next = verdicts.shift();
    if (!next) throw new Error('more attempts than scripted');
    return next;
  };
  return { attempt, calls };
}

describe('retry timing', () => {
  it('honours what the server said, else backs off exponentially with jitter under a cap', () => {
    const full = { baseDelayMs: 100, maxDelayMs: 1000, jitter: 'full' } as const;
    expect(retryDelayMs(3, 1500, full)).toBe(1500);
    expect(retryDelayMs(1, undefined, full, () => 0.999)).toBe(100);
    expect(retryDelayMs(3, undefined, full, () => 0.999)).toBe(400);
    expect(retryDelayMs(9, undefined, full, () => 0.999)).toBe(999);
    expect(retryDelayMs(9, undefined, full, () => 0)).toBe(0);
  });

  it('without jitter waits the ceiling itself: base, doubled each time, capped', () => {
    const plain = { baseDelayMs: 250, maxDelayMs: 1500, jitter: 'none' } as const;
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, undefined, plain, () => 0))).toEqual([
      250, 500, 1000, 1500, 1500,
    ]);
  });

  it('reads Retry-After as seconds or as an HTTP date, and Gemini RetryInfo', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('Sun, 29 Nov 2026 10:00:00 GMT');
    expect(parseRetryAfter('Sun, 29 Nov 2026 10:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(
      retryInfoDelayMs({
        error: {
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' }],
        },
      }),
    ).toBe(17_000);
  });

  it('takes a past HTTP date as now, and no advice from what RFC 9110 does not allow', () => {
    const now = Date.parse('Sun, 29 Nov 2026 10:00:00 GMT');
    expect(parseRetryAfter('Sun, 29 Nov 2026 09:59:00 GMT', now)).toBe(0);
    // Number() or Date.parse would read some of these (Date.parse takes '-5' for a year).
    for (const bad of ['-5', '1e3', '0x10', '', '  ']) {
      expect(parseRetryAfter(bad, now), JSON.stringify(bad)).toBeUndefined();
    }
    expect(parseRetryAfter(' 12 ', now)).toBe(12_000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("prefers OpenAI's retry-after-ms to Retry-After, and falls back when it is not a number", () => {
    const now = Date.parse('Sun, 29 Nov 2026 10:00:00 GMT');
    expect(
      retryAfterFromHeaders(new Headers({ 'retry-after-ms': '1234', 'retry-after': '9' })),
    ).toBe(1234);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': 'x', 'retry-after': '9' }))).toBe(
      9000,
    );
    expect(
      retryAfterFromHeaders(new Headers({ 'retry-after': 'Sun, 29 Nov 2026 10:00:02 GMT' }), now),
    ).toBe(2000);
    expect(retryAfterFromHeaders(new Headers())).toBeUndefined();
    expect(retryAfterFromHeaders(undefined)).toBeUndefined();
  });
});

describe('retrying', () => {
  it('returns the first final verdict, after backing off between retries', async () => {
    const clock = fakeClock();
    const { attempt, calls } = scripted<string>([
      { verdict: 'retry', value: '503' },
      { verdict: 'retry', value: '503' },
      { verdict: 'final', value: 'ok' },
    ]);
    const outcome = await retrying(policy(), attempt, { clock });
    expect(outcome).toEqual({ kind: 'final', value: 'ok', attempts: 3 });
    expect(calls).toEqual([1, 2, 3]);
    expect(clock.waits).toEqual([100, 200]);
  });

  it('stops at the attempt budget with the last failure, and does not wait after the last one', async () => {
    const clock = fakeClock();
    const { attempt, calls } = scripted<string>([
      { verdict: 'retry', value: 'first' },
      { verdict: 'retry', value: 'second' },
      { verdict: 'retry', value: 'third' },
    ]);
    const outcome = await retrying(policy({ maxAttempts: 3 }), attempt, { clock });
    expect(outcome).toEqual({ kind: 'exhausted', value: 'third', attempts: 3 });
    expect(calls).toEqual([1, 2, 3]);
    expect(clock.waits).toEqual([100, 200]);
  });

  it('waits what the server asked for instead of the backoff, and tells onWait first', async () => {
    const clock = fakeClock();
    const told: [number, number][] = [];
    const { attempt } = scripted<string>([
      { verdict: 'retry', value: '429', retryAfterMs: 7_000 },
      { verdict: 'final', value: 'ok' },
    ]);
    await retrying(policy(), attempt, { clock, onWait: (ms, n) => told.push([ms, n]) });
    expect(clock.waits).toEqual([7_000]);
    expect(told).toEqual([[7_000, 1]]);
  });

  it('draws each wait from the clock under full jitter', async () => {
    const clock = fakeClock([0.5, 0.25]);
    const { attempt } = scripted<string>([
      { verdict: 'retry', value: 'a' },
      { verdict: 'retry', value: 'b' },
      { verdict: 'final', value: 'ok' },
    ]);
    await retrying(policy({ jitter: 'full' }), attempt, { clock });
    expect(clock.waits).toEqual([50, 50]);
  });

  it('counts an immediate retry against the budget without waiting', async () => {
    const clock = fakeClock();
    const { attempt, calls } = scripted<string>([
      { verdict: 'retry-now', value: 'malformed' },
      { verdict: 'retry-now', value: 'malformed again' },
    ]);
    const outcome = await retrying(policy({ maxAttempts: 2 }), attempt, { clock });
    expect(outcome).toEqual({ kind: 'exhausted', value: 'malformed again', attempts: 2 });
    expect(calls).toEqual([1, 2]);
    expect(clock.waits).toEqual([]);
  });

  it('is cancelled by an abort during a wait, counting the attempts made', async () => {
    const controller = new AbortController();
    const clock = fakeClock();
    const sleep = clock.sleep;
    clock.sleep = (ms, signal) => {
      controller.abort(new Error('stop'));
      return sleep(ms, signal);
    };
    const { attempt, calls } = scripted<string>([{ verdict: 'retry', value: '503' }]);
    const outcome = await retrying(policy(), attempt, { clock, signal: controller.signal });
    expect(outcome).toEqual({ kind: 'cancelled', attempts: 1 });
    expect(calls).toEqual([1]);
  });

  it('makes no attempt once the signal has aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { attempt, calls } = scripted<string>([]);
    const outcome = await retrying(policy(), attempt, {
      clock: fakeClock(),
      signal: controller.signal,
    });
    expect(outcome).toEqual({ kind: 'cancelled', attempts: 0 });
    expect(calls).toEqual([]);
  });

  it('makes one attempt when the budget is one (or less), and never waits', async () => {
    const clock = fakeClock();
    const { attempt, calls } = scripted<string>([{ verdict: 'retry', value: 'down' }]);
    const outcome = await retrying(policy({ maxAttempts: 0 }), attempt, { clock });
    expect(outcome).toEqual({ kind: 'exhausted', value: 'down', attempts: 1 });
    expect(calls).toEqual([1]);
    expect(clock.waits).toEqual([]);
  });
});
