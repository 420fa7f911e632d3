import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import type { RetryClock } from '../../runner/retry-policy.ts';
import { createLlmClient } from '../../stages/llm/llm-client.ts';
import {
  DEFAULT_GEMINI_THINKING_BUDGET,
  resolveLlmSettings,
} from '../../stages/llm/llm-settings.ts';
import {
  type ProtocolServer,
  type ServerBehaviour,
  startGeminiServer,
  USAGE_PER_ANSWER,
} from './gemini-protocol-server.ts';

const API_KEY = 'test-key-7f3a9c-never-logged';
const schema = {
  type: 'object',
  properties: { label: { type: 'string' }, score: { type: 'integer' } },
  required: ['label', 'score'],
  additionalProperties: false,
};

let server: ProtocolServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-llm-'));
  dirs.push(dir);
  return dir;
}

function itemOf(prompt: string): number {
  return Number(/item (\d+)/.exec(prompt)?.[1]);
}

/** Time that moves only when someone waits; each wait is noted. */
function fakeClock(): RetryClock & { waits: number[] } {
  let now = 1_700_000_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
}

function clientFor(
  url: string,
  memoRoot: string,
  overrides: Record<string, unknown> = {},
  clock?: RetryClock,
) {
  const client = createLlmClient({
    settings: resolveLlmSettings({
      provider: 'gemini',
      model: 'gemini-test',
      base_url: url,
      max_attempts: 4,
      // Long enough that a loaded CI machine answers every non-hanging request in time (a
      // late answer would be retried and counted twice), short enough for the hanging ones.
      request_timeout_s: 2,
      rate_limit: { concurrency: 8 },
      ...overrides,
    }),
    memo: new ArtifactStore(memoRoot).memo(),
    stage: 'annotate',
    env: { GEMINI_API_KEY: API_KEY },
    backoff: { baseDelayMs: 20, maxDelayMs: 100 },
    ...(clock ? { clock } : {}),
  });
  if (!client.ok) throw new Error(client.error.message);
  return client.value;
}

describe('gemini provider through a Gemini-protocol server', () => {
  it('ends every call answered or failed with its reason, and a rerun pays only for the failed ones', async () => {
    const attemptsPerItem = new Map<number, number>();
    const answeredPerItem = new Map<number, number>();
    const decide = (item: number, attempt: number): ServerBehaviour => {
      if (item % 10 === 4 && item < 10) return { kind: 'prompt-blocked' };
      if (item === 14) return { kind: 'answer-blocked' };
      if (item === 5) return { kind: 'malformed' };
      if (attempt === 1) {
        if (item % 10 === 0) return { kind: 'rate-limit', retryAfterSeconds: 0.2 };
        if (item % 10 === 1) return { kind: 'server-error' };
        if (item % 10 === 2) return { kind: 'hang' };
        if (item % 10 === 3) return { kind: 'malformed' };
        if (item % 10 === 6) return { kind: 'rate-limit', retryInfoSeconds: 0.1 };
      }
      return { kind: 'answer', text: JSON.stringify({ label: `item ${item}`, score: item }) };
    };
    server = await startGeminiServer((request) => {
      expect(request.apiKey).toBe(API_KEY);
      const item = itemOf(request.prompt);
      const attempt = (attemptsPerItem.get(item) ?? 0) + 1;
      attemptsPerItem.set(item, attempt);
      const behaviour = decide(item, attempt);
      if (behaviour.kind === 'answer')
        answeredPerItem.set(item, (answeredPerItem.get(item) ?? 0) + 1);
      return behaviour;
    });
    const memoRoot = await tempDir();
    const items = Array.from({ length: 40 }, (_, i) => i);
    const ask = (client: ReturnType<typeof clientFor>, item: number) =>
      client.generateStructured(
        { system: 'Label the item.', prompt: `Describe item ${item}.`, schema },
        new AbortController().signal,
      );

    const first = clientFor(server.url, memoRoot);
    const results = await Promise.all(items.map((item) => ask(first, item)));

    const firstAttempts = server.seen.filter((_, index) => index < items.length).length;
    const faultyFirstAttempts = items.filter((item) => decide(item, 1).kind !== 'answer').length;
    expect(faultyFirstAttempts / firstAttempts).toBeGreaterThanOrEqual(0.3);

    const failures = new Map<number, string>();
    results.forEach((result, item) => {
      if (result.ok) expect(result.value.value).toEqual({ label: `item ${item}`, score: item });
      else failures.set(item, result.error.reason);
    });
    expect(Object.fromEntries(failures)).toEqual({
      4: 'safety-block',
      5: 'malformed-answer',
      14: 'safety-block',
    });
    const malformed = results[5];
    if (malformed?.ok !== false) throw new Error('item 5 should have failed');
    expect(malformed.error.attempts).toBe(4);
    expect(malformed.error.raw).toContain('cut off');
    // Safety blocks are final: one request, no retry.
    expect(attemptsPerItem.get(4)).toBe(1);
    // Every other item was answered exactly once.
    for (const item of items) if (!failures.has(item)) expect(answeredPerItem.get(item)).toBe(1);
    const metrics = first.metrics();
    expect(metrics['llm/annotate/calls']).toBe(server.seen.length);
    expect(metrics['llm/annotate/failures']).toBe(3);
    expect(metrics['llm/annotate/cache_hits']).toBe(0);

    const hitsBefore = server.seen.length;
    const second = clientFor(server.url, memoRoot);
    const again = await Promise.all(items.map((item) => ask(second, item)));
    const rerunItems = server.seen.slice(hitsBefore).map((r) => itemOf(r.prompt));
    // The safety-blocked ones are asked again; the one that used up its attempts on malformed
    // answers is remembered as such and not paid for again.
    expect([...new Set(rerunItems)].sort((a, b) => a - b)).toEqual([4, 14]);
    const rememberedFailure = again[5];
    expect(rememberedFailure?.ok === false && rememberedFailure.error).toMatchObject({
      reason: 'malformed-answer',
      remembered: true,
    });
    expect(again.filter((r) => r.ok && r.value.cached)).toHaveLength(37);
    expect(second.metrics()['llm/annotate/cache_hits']).toBe(38);
    for (const item of items) if (!failures.has(item)) expect(answeredPerItem.get(item)).toBe(1);

    // The key is in no memo record and no failure message.
    const memoText = await readAll(memoRoot);
    expect(memoText).toContain('item 7');
    expect(memoText).not.toContain(API_KEY);
    for (const result of [...results, ...again])
      if (!result.ok) expect(JSON.stringify(result.error)).not.toContain(API_KEY);
  });

  it('waits as long as Retry-After says before the retry, and counts tokens', async () => {
    let calls = 0;
    server = await startGeminiServer(() => {
      calls++;
      return calls === 1
        ? { kind: 'rate-limit', retryAfterSeconds: 1 }
        : { kind: 'answer', text: '{"label":"ok","score":1}' };
    });
    // A fake clock: every wait is noted and passes at once, so the test waits for nothing.
    const clock = fakeClock();
    const client = clientFor(
      server.url,
      await tempDir(),
      {
        temperature: 0.3,
        max_output_tokens: 99,
        price: { input_per_million: 1_000_000, output_per_million: 2_000_000 },
      },
      clock,
    );
    const result = await client.generateStructured(
      { system: 'Label.', prompt: 'item 1', schema },
      new AbortController().signal,
    );
    expect(result.ok).toBe(true);
    const [firstSeen] = server.seen;
    expect(server.seen).toHaveLength(2);
    // Retry-After: 1 -> one wait of 1000 ms before the retry (not the backoff's 20-100 ms).
    expect(clock.waits).toEqual([1000]);
    expect(firstSeen?.generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      temperature: 0.3,
      // The answer's 99 tokens, and the thinking budget on top.
      maxOutputTokens: 99 + DEFAULT_GEMINI_THINKING_BUDGET,
      thinkingConfig: { thinkingBudget: DEFAULT_GEMINI_THINKING_BUDGET },
    });
    expect(firstSeen?.schema).toEqual(schema);
    expect(firstSeen?.system).toBe('Label.');
    const metrics = client.metrics();
    expect(metrics['llm/annotate/input_tokens']).toBe(USAGE_PER_ANSWER.input);
    expect(metrics['llm/annotate/output_tokens']).toBe(USAGE_PER_ANSWER.output);
    expect(metrics['llm/annotate/retries']).toBe(1);
    expect(metrics['llm/annotate/cost_usd']).toBe(
      USAGE_PER_ANSWER.input + 2 * USAGE_PER_ANSWER.output,
    );
  });

  it('refuses up front without a key, naming the variables it looked in', () => {
    const client = createLlmClient({
      settings: resolveLlmSettings({ provider: 'gemini', model: 'gemini-test' }),
      memo: new ArtifactStore('/nonexistent').memo(),
      stage: 'annotate',
      env: {},
    });
    expect(client.ok).toBe(false);
    if (!client.ok) {
      expect(client.error.reason).toBe('missing-credentials');
      expect(client.error.message).toContain('GEMINI_API_KEY or GOOGLE_API_KEY');
    }
  });
});

async function readAll(root: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) text += await readFile(join(entry.parentPath, entry.name), 'utf8');
  }
  return text;
}
