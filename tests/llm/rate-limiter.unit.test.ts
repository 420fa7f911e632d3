import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../stages/llm/rate-limiter.ts';

const never = new AbortController().signal;

// The limiter reads Date.now and sleeps with setTimeout; fake timers drive both, so every
// expectation below is an exact instant, not a wall-clock tolerance.
beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `body` to completion while advancing the fake clock through every timer it sets. */
async function settle<T>(body: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return body;
}

function startTimes(limiter: RateLimiter, count: number, tokens = 1): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const permit = await limiter.acquire(tokens, never);
      permit.release();
      return Date.now();
    }),
  );
}

describe('rate limiter', () => {
  it('lets no window of 300 ms see more than 3 requests', async () => {
    const limiter = new RateLimiter({ requestsPerWindow: 3, concurrency: 10, windowMs: 300 });
    const times = await settle(startTimes(limiter, 7));
    expect(times.sort((a, b) => a - b)).toEqual([0, 0, 0, 300, 300, 300, 600]);
  });

  it('adds the margin to the window', async () => {
    const limiter = new RateLimiter({
      requestsPerWindow: 1,
      concurrency: 10,
      windowMs: 300,
      marginMs: 25,
    });
    expect(await settle(startTimes(limiter, 3))).toEqual([0, 325, 650]);
  });

  it('holds the tokens per window, settling the estimate to the real count', async () => {
    const limiter = new RateLimiter({ tokensPerWindow: 100, concurrency: 10, windowMs: 300 });
    const first = await limiter.acquire(80, never);
    first.settleTokens(20);
    first.release();
    // 20 used + 70 fits; the next 70 must wait for the window to pass.
    (await limiter.acquire(70, never)).release();
    expect(Date.now()).toBe(0);
    await settle(limiter.acquire(70, never).then((p) => p.release()));
    expect(Date.now()).toBe(300);
  });

  it('never runs more than the concurrency at once', async () => {
    const limiter = new RateLimiter({ concurrency: 2, windowMs: 1000 });
    let running = 0;
    let peak = 0;
    await settle(
      Promise.all(
        Array.from({ length: 6 }, async () => {
          const permit = await limiter.acquire(1, never);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 20));
          running--;
          permit.release();
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(Date.now()).toBe(60);
  });

  it('pauses every caller after a Retry-After, and lets an abort end the wait', async () => {
    const limiter = new RateLimiter({ concurrency: 5, windowMs: 1000 });
    limiter.pauseFor(200);
    await settle(limiter.acquire(1, never).then((p) => p.release()));
    expect(Date.now()).toBe(200);
    limiter.pauseFor(10_000);
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop')), 20);
    const waiting = expect(limiter.acquire(1, abort.signal)).rejects.toThrow('stop');
    await vi.advanceTimersByTimeAsync(20);
    await waiting;
    expect(Date.now()).toBe(220);
  });
});
