import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import type { LlmRequest } from '../../stages/llm/llm-call.ts';
import { createLlmClient } from '../../stages/llm/llm-client.ts';
import { resolveLlmSettings } from '../../stages/llm/llm-settings.ts';
import { runItems } from '../../stages/llm/llm-stage-items.ts';
import { ensureLocalModel } from '../../stages/llm/local-model.ts';
import { TempDirs } from './llm-stage-fixtures.ts';

/**
 * Batched decoding on the real local model (SmolLM2-135M through node-llama-cpp): items run in
 * lock-step waves of llm.parallel slots. The answers must not depend on timing, a stopped run
 * must resume to the answers of an uninterrupted one, and batched answers never mix with
 * one-at-a-time answers in the memo (batching changes the numbers).
 */
const temp = new TempDirs();
let modelPath = '';

beforeAll(async () => {
  const installed = await ensureLocalModel('smollm2-135m-instruct-q4_1');
  if (!installed.ok) throw new Error(installed.error.message);
  modelPath = installed.value;
});
afterAll(() => temp.cleanup());

const schema = {
  type: 'object',
  properties: { condition: { type: 'string', maxLength: 30 } },
  required: ['condition'],
  additionalProperties: false,
} as const;

const CONDITIONS = [
  'honey-coloured crusts around the mouth of a child',
  'a hot, spreading red plaque on the shin',
  'pustules centred on hair follicles of the thigh',
  'a tender nodule with a central plug on the neck',
  'a sharply raised red plaque on the cheek',
];
const requests: LlmRequest[] = CONDITIONS.map((text) => ({
  system: 'You name skin conditions.',
  prompt: `A photograph shows ${text}. Name the condition.`,
  schema,
}));

async function answerAll(
  parallel: number,
  memoDir: string,
  options: { stopAfter?: number; jitter?: (index: number) => number } = {},
) {
  const settings = resolveLlmSettings({ provider: 'local', max_output_tokens: 40, parallel });
  const created = createLlmClient({
    settings,
    memo: new ArtifactStore(memoDir).memo(),
    stage: 'generate-qa',
    localModelPath: modelPath,
  });
  if (!created.ok) throw new Error(created.error.message);
  const client = created.value;
  const stop = new AbortController();
  const outcomes = await runItems(
    requests.map((request, index) => ({ request, index })),
    async ({ request, index }, wave) => {
      // Items reach the model at different moments; the lock-step barrier must not care.
      const delay = options.jitter?.(index) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const answer = await client.generateStructured(request, stop.signal, wave);
      return answer.ok
        ? { ok: true as const, value: answer.value.raw }
        : {
            ok: false as const,
            failure: { item: String(index), reason: answer.error.reason, message: '' },
          };
    },
    {
      concurrency: settings.rate_limit.concurrency,
      signal: stop.signal,
      onDone: (done) => {
        if (options.stopAfter !== undefined && done >= options.stopAfter) stop.abort();
      },
      waves: { client, firstRequest: ({ request }) => request },
    },
  );
  const metrics = client.metrics();
  await client.close();
  return {
    answers: outcomes.map((o) => (o?.ok ? o.value : undefined)),
    calls: metrics['llm/generate-qa/calls'] ?? 0,
    hits: metrics['llm/generate-qa/cache_hits'] ?? 0,
  };
}

describe('batched local decoding (llm.parallel)', () => {
  it('gives the same answers whatever the timing, and a stopped run resumes to them', async () => {
    const work = await temp.make();
    const straight = await answerAll(3, join(work, 'straight'));
    expect(straight.answers.every((a) => typeof a === 'string' && a.includes('condition'))).toBe(
      true,
    );

    const late = await answerAll(3, join(work, 'late'), {
      jitter: (i) => [40, 0, 15, 0, 30][i] ?? 0,
    });
    expect(late.answers).toEqual(straight.answers);

    // Stopped inside the second wave (items 3 and 4): one of its items may be in the memo.
    const crashed = join(work, 'crashed');
    const first = await answerAll(3, crashed, { stopAfter: 4 });
    expect(first.answers.slice(0, 3)).toEqual(straight.answers.slice(0, 3));
    const resumed = await answerAll(3, crashed);
    expect(resumed.answers).toEqual(straight.answers);
    // The finished first wave comes from the memo; the unfinished second is decoded again whole,
    // its item that had been answered before the stop included.
    expect(first.answers[3]).toBe(straight.answers[3]);
    expect(resumed.hits).toBe(3);
  });

  it('keeps batched answers apart from one-at-a-time answers in the memo', async () => {
    const work = await temp.make();
    const memo = join(work, 'memo');
    const alone = await answerAll(1, memo);
    expect(alone.hits).toBe(0);
    const batched = await answerAll(3, memo);
    expect(batched.hits).toBe(0);
    expect(batched.calls).toBeGreaterThanOrEqual(requests.length);
    const again = await answerAll(1, memo);
    expect(again.hits).toBe(requests.length);
    expect(again.answers).toEqual(alone.answers);
  });
});
