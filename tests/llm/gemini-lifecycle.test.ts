import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { runAnnotate } from '../../stages/annotate/run-annotate.ts';
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
import { stageContext, syntheticRecords, TempDirs, writeRecords } from './llm-stage-fixtures.ts';

const API_KEY = 'lifecycle-key-51c2-never-logged';
const MODEL = 'gemini-3.6-flash';
const schema = {
  type: 'object',
  properties: { label: { type: 'string', minLength: 3, maxLength: 12 } },
  required: ['label'],
  additionalProperties: false,
};

const temp = new TempDirs();
let server: ProtocolServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await temp.cleanup();
});

async function clientFor(url: string, overrides: Record<string, unknown> = {}) {
  const client = createLlmClient({
    settings: resolveLlmSettings({
      provider: 'gemini',
      model: MODEL,
      base_url: url,
      max_attempts: 4,
      price: { input_per_million: 1, output_per_million: 10 },
      ...overrides,
    }),
    memo: new ArtifactStore(await temp.make()).memo(),
    stage: 'annotate',
    env: { GEMINI_API_KEY: API_KEY },
    backoff: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  if (!client.ok) throw new Error(client.error.message);
  return client.value;
}

const ask = (n: number) => ({ system: 'label it', prompt: `item ${n}`, schema });
const signal = new AbortController().signal;

describe('Gemini model lifecycle against the Gemini-protocol server', () => {
  it('sends a thinking budget on top of the answer budget and counts thoughts in usage and cost', async () => {
    server = await startGeminiServer(
      () => ({ kind: 'answer', text: '{"label":"impetigo"}', thoughts: 40 }),
      { models: [MODEL], apiKey: API_KEY, modelVersion: `${MODEL}-001` },
    );
    const client = await clientFor(server.url, { max_output_tokens: 300 });
    const answer = await client.generateStructured(ask(1), signal);
    expect(answer.ok && answer.value.modelVersion).toBe(`${MODEL}-001`);
    const config = server.seen[0]?.generationConfig ?? {};
    expect(config.thinkingConfig).toEqual({ thinkingBudget: DEFAULT_GEMINI_THINKING_BUDGET });
    expect(config.maxOutputTokens).toBe(300 + DEFAULT_GEMINI_THINKING_BUDGET);
    const metrics = client.metrics();
    expect(metrics['llm/annotate/thought_tokens']).toBe(40);
    expect(metrics['llm/annotate/output_tokens']).toBe(USAGE_PER_ANSWER.output + 40);
    expect(metrics['llm/annotate/cost_usd']).toBeCloseTo(
      (USAGE_PER_ANSWER.input * 1 + (USAGE_PER_ANSWER.output + 40) * 10) / 1e6,
      12,
    );
    expect(client.usage.modelVersions).toEqual({ [`${MODEL}-001`]: 1 });
    // A second identical call is served from the memo and keeps the version it was answered by.
    const again = await client.generateStructured(ask(1), signal);
    expect(again.ok && again.value.cached && again.value.modelVersion).toBe(`${MODEL}-001`);
  });

  it("sends Gemini 3's thinking level instead of the budget, keeping the budget's room", async () => {
    server = await startGeminiServer(() => ({ kind: 'answer', text: '{"label":"erysipelas"}' }), {
      models: [MODEL],
    });
    const client = await clientFor(server.url, {
      max_output_tokens: 200,
      thinking_budget: 300,
      thinking_level: 'low',
    });
    // The server refuses a request with both, as Gemini does, so an answer proves only one went.
    expect((await client.generateStructured(ask(1), signal)).ok).toBe(true);
    expect(server.seen[0]?.generationConfig).toMatchObject({
      thinkingConfig: { thinkingLevel: 'LOW' },
      maxOutputTokens: 500,
    });
  });

  it('sends Gemini only the schema keywords it documents, and still enforces lengths locally', async () => {
    server = await startGeminiServer(
      (request) =>
        request.prompt.includes('item 2')
          ? { kind: 'answer', text: '{"label":"far too long a label"}' }
          : { kind: 'answer', text: '{"label":"cellulitis"}' },
      { models: [MODEL] },
    );
    const client = await clientFor(server.url, { max_attempts: 1 });
    expect((await client.generateStructured(ask(1), signal)).ok).toBe(true);
    expect(server.seen[0]?.schema).toEqual({
      type: 'object',
      properties: { label: { type: 'string' } },
      required: ['label'],
      additionalProperties: false,
    });
    const tooLong = await client.generateStructured(ask(2), signal);
    expect(tooLong.ok).toBe(false);
    if (!tooLong.ok) {
      expect(tooLong.error.reason).toBe('malformed-answer');
      expect(tooLong.error.message).toContain('must NOT have more than 12 characters');
    }
  });

  it('retries a MAX_TOKENS answer once with twice the answer budget, then reports max-tokens', async () => {
    const truncated: ServerBehaviour = { kind: 'max-tokens', text: '{"label":"imp', thoughts: 500 };
    server = await startGeminiServer(
      (request) =>
        request.prompt.includes('item 1') &&
        server?.seen.filter((s) => s.prompt === 'item 1').length === 1
          ? truncated
          : request.prompt.includes('item 1')
            ? { kind: 'answer', text: '{"label":"impetigo"}' }
            : truncated,
      { models: [MODEL] },
    );
    const client = await clientFor(server.url, { max_output_tokens: 100, thinking_budget: 500 });
    const widened = await client.generateStructured(ask(1), signal);
    expect(widened.ok).toBe(true);
    const budgets = server.seen.map((s) => s.generationConfig.maxOutputTokens);
    expect(budgets).toEqual([600, 700]);

    const hopeless = await client.generateStructured(ask(3), signal);
    expect(hopeless.ok).toBe(false);
    if (!hopeless.ok) {
      expect(hopeless.error.reason).toBe('max-tokens');
      expect(hopeless.error.attempts).toBe(2);
      expect(hopeless.error.message).toContain('raise llm.max_output_tokens');
      expect(hopeless.error.raw).toBe('{"label":"imp');
    }
    expect(server.seen.length).toBe(4);
    expect(client.metrics()['llm/annotate/thought_tokens']).toBe(1500);
    // Asked again (a rerun), the cut-off call is reported from the memo and not paid twice.
    const again = await client.generateStructured(ask(3), signal);
    expect(again.ok ? undefined : again.error).toMatchObject({
      reason: 'max-tokens',
      remembered: true,
    });
    expect(server.seen.length).toBe(4);
  });

  it('stops annotate at the first 404 for a retired model: one call, a message naming llm.model', async () => {
    server = await startGeminiServer(() => ({ kind: 'answer', text: '{}' }), {
      models: [MODEL],
    });
    const work = await temp.make();
    const records = await writeRecords(join(work, 'curate'), syntheticRecords(12));
    const { ctx } = await stageContext({
      params: {
        llm: {
          provider: 'gemini',
          model: 'gemini-2.0-flash',
          base_url: server.url,
          rate_limit: { concurrency: 1 },
        },
      },
      inputs: { records },
      memoRoot: join(work, 'memo'),
      workDir: work,
    });
    const result = await runAnnotate(ctx, { env: { GEMINI_API_KEY: API_KEY } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe('external-service');
      expect(result.error.message).toContain('model-not-found');
      expect(result.error.message).toContain('models/gemini-2.0-flash is not found');
      expect(result.error.message).toContain('Fix llm.model');
    }
    // Concurrency 2 (twice the rate limit's), so at most the two calls already on their way.
    expect(server.generateCalls).toBeLessThanOrEqual(2);
    expect(server.generateCalls).toBeGreaterThanOrEqual(1);
    expect(server.seen.length).toBe(0);
  });

  it('lists and describes the models it serves in the shape the SDK reads (models.list / models.get)', async () => {
    server = await startGeminiServer(() => ({ kind: 'answer', text: '{}' }), {
      models: [MODEL, 'gemini-3.5-flash-lite'],
    });
    const ai = new GoogleGenAI({
      apiKey: API_KEY,
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: server.url },
    });
    const names: string[] = [];
    for await (const model of await ai.models.list()) names.push(model.name ?? '');
    expect(names).toEqual([`models/${MODEL}`, 'models/gemini-3.5-flash-lite']);
    const model = await ai.models.get({ model: MODEL });
    expect(model).toMatchObject({ name: `models/${MODEL}`, outputTokenLimit: 65_536 });
    expect(model.supportedActions).toContain('generateContent');
    await expect(ai.models.get({ model: 'gemini-2.0-flash' })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('stops at the first answer to a wrong key (400 API_KEY_INVALID) and never shows the key', async () => {
    server = await startGeminiServer(() => ({ kind: 'answer', text: '{}' }), {
      models: [MODEL],
      apiKey: 'the-right-key',
    });
    const client = await clientFor(server.url);
    const first = await client.generateStructured(ask(1), signal);
    const second = await client.generateStructured(ask(2), signal);
    expect(first.ok || second.ok).toBe(false);
    if (!first.ok && !second.ok) {
      expect(first.error.reason).toBe('unauthorized');
      expect(first.error.message).toContain('API key not valid');
      expect(first.error.message).not.toContain(API_KEY);
      expect(second.error).toMatchObject({ reason: 'unauthorized', attempts: 0 });
    }
    expect(server.generateCalls).toBe(1);
  });
});
