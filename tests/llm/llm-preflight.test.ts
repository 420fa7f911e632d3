import { afterEach, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { llmCallKey } from '../../stages/llm/llm-client.ts';
import { llmFingerprints } from '../../stages/llm/llm-fingerprints.ts';
import { llmPreflight } from '../../stages/llm/llm-preflight.ts';
import { resolveLlmSettings } from '../../stages/llm/llm-settings.ts';
import { type ProtocolServer, startGeminiServer } from './gemini-protocol-server.ts';
import { startOpenAiServer } from './openai-protocol-server.ts';

const KEY = 'preflight-key-93ab-never-shown';
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function gemini(options: Parameters<typeof startGeminiServer>[1]): Promise<ProtocolServer> {
  const server = await startGeminiServer(() => ({ kind: 'answer', text: '{}' }), options);
  closers.push(() => server.close());
  return server;
}

describe('LLM preflight against the protocol servers', () => {
  it('asks Gemini for the model (models.get, no generation) and passes a served one', async () => {
    const server = await gemini({ models: ['gemini-3.6-flash'], apiKey: KEY });
    const checks = await llmPreflight(
      { provider: 'gemini', model: 'gemini-3.6-flash', base_url: server.url },
      preflightContext({ env: { GEMINI_API_KEY: KEY } }),
    );
    expect(checks).toEqual([
      expect.objectContaining({
        part: 'llm',
        subject: 'Gemini model gemini-3.6-flash',
        outcome: 'passed',
      }),
    ]);
    expect(checks[0]?.detail).toContain('up to 65536 output tokens');
    expect(server.generateCalls).toBe(0);
  });

  it('fails a retired model naming llm.model, a wrong key naming its variable, a missing key without a request', async () => {
    const server = await gemini({ models: ['gemini-3.6-flash'], apiKey: KEY });
    const [retired] = await llmPreflight(
      { provider: 'gemini', model: 'gemini-2.0-flash', base_url: server.url },
      preflightContext({ env: { GEMINI_API_KEY: KEY } }),
    );
    expect(retired).toMatchObject({ outcome: 'failed', setting: 'llm.model' });
    expect(retired?.detail).toContain('404 NOT_FOUND');

    const [refused] = await llmPreflight(
      {
        provider: 'gemini',
        model: 'gemini-3.6-flash',
        base_url: server.url,
        api_key_env: 'MY_KEY',
      },
      preflightContext({ env: { MY_KEY: 'wrong-key-value' } }),
    );
    expect(refused).toMatchObject({ outcome: 'failed', setting: 'MY_KEY' });
    expect(refused?.detail).toBe('the key in MY_KEY is refused (HTTP 400)');

    const [missing] = await llmPreflight(
      { provider: 'gemini', model: 'gemini-3.6-flash', base_url: server.url },
      preflightContext({ env: {} }),
    );
    expect(missing).toMatchObject({
      outcome: 'failed',
      setting: 'GEMINI_API_KEY or GOOGLE_API_KEY',
    });
    expect(JSON.stringify([retired, refused, missing])).not.toContain(KEY);
  });

  it('refuses an answer budget the model cannot give, and proves one model once for every stage', async () => {
    const server = await gemini({ models: ['gemini-3.6-flash'] });
    const ctx = preflightContext({ env: { GOOGLE_API_KEY: KEY } });
    const llm = { provider: 'gemini', model: 'gemini-3.6-flash', base_url: server.url };
    const [tooMuch] = await llmPreflight({ ...llm, max_output_tokens: 65_536 }, ctx);
    expect(tooMuch).toMatchObject({ outcome: 'failed', setting: 'llm.max_output_tokens' });
    const first = await llmPreflight(llm, ctx);
    const second = await llmPreflight(llm, ctx);
    expect(second).toEqual(first);
    expect(first[0]?.outcome).toBe('passed');
  });

  it('passes an OpenAI-compatible server that lists the model, and fails one that does not', async () => {
    const server = await startOpenAiServer(() => ({ kind: 'answer', text: '{}' }) as never, {
      models: ['qwen2.5-7b-instruct'],
    });
    closers.push(() => server.close());
    const ctx = preflightContext({ env: {} });
    const [listed] = await llmPreflight(
      { provider: 'openai', model: 'qwen2.5-7b-instruct', base_url: server.url },
      ctx,
    );
    expect(listed).toMatchObject({
      outcome: 'passed',
      detail: `listed by ${server.url}/models`,
    });
    const [unlisted] = await llmPreflight(
      { provider: 'openai', model: 'llama-9', base_url: server.url },
      ctx,
    );
    expect(unlisted).toMatchObject({ outcome: 'failed', setting: 'llm.model' });
    expect(unlisted?.detail).toContain('it serves qwen2.5-7b-instruct');
    const [noKey] = await llmPreflight(
      { provider: 'openai', model: 'm', base_url: server.url, api_key_env: 'VLLM_KEY' },
      ctx,
    );
    expect(noKey).toMatchObject({ outcome: 'failed', setting: 'llm.api_key_env' });
  });

  it('refuses an unknown local model and images for the text-only local model', async () => {
    const ctx = preflightContext({ env: {} });
    expect(await llmPreflight({ provider: 'local', model: 'gpt-5' }, ctx)).toEqual([
      expect.objectContaining({ outcome: 'failed', setting: 'llm.model' }),
    ]);
    expect(await llmPreflight({ provider: 'local', send_images: true }, ctx)).toEqual([
      expect.objectContaining({ outcome: 'failed', setting: 'llm.send_images' }),
    ]);
    expect((await llmPreflight({}, ctx)).map((c) => c.outcome)).toEqual(['passed']);
  });
});

describe('LLM fingerprints', () => {
  it('keys the local model by the GGUF digest, remote ones by provider and model', async () => {
    expect(await llmFingerprints({})).toEqual({
      llm_model:
        'smollm2-135m-instruct-q4_1@sha256:b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    });
    expect(await llmFingerprints({ provider: 'gemini', model: 'gemini-2.0-flash' })).toEqual({
      llm_model: 'gemini:gemini-2.0-flash',
    });
  });
});

describe('LLM call key', () => {
  const request = { system: 's', prompt: 'p', schema: { type: 'object' } };
  // Gemini keys carry the thinking budget (it changes the answer), so they moved once with it;
  // the paper's model changed at the same time, so no memoized answer was worth keeping.
  it('is pinned, so an accidental change of the key format fails loudly (and would re-pay every call)', () => {
    const settings = resolveLlmSettings({ provider: 'gemini', model: 'gemini-2.0-flash' });
    expect(llmCallKey(settings, request)).toBe(
      '7ecc1081264f997f2688460ed7a752ef41eed4f5304e97625db12a9905c9e5c6',
    );
  });

  it('ignores what does not change the answer, and not what does', () => {
    const base = llmCallKey(resolveLlmSettings({ provider: 'gemini', model: 'm' }), request);
    const pacing = resolveLlmSettings({
      provider: 'gemini',
      model: 'm',
      max_attempts: 9,
      api_key_env: 'OTHER_KEY',
      rate_limit: { requests_per_minute: 5, concurrency: 1 },
      price: { input_per_million: 1 },
    });
    expect(llmCallKey(pacing, request)).toBe(base);
    expect(
      llmCallKey(resolveLlmSettings({ provider: 'gemini', model: 'm', temperature: 0.5 }), request),
    ).not.toBe(base);
    expect(llmCallKey(resolveLlmSettings({ provider: 'gemini', model: 'm2' }), request)).not.toBe(
      base,
    );
    expect(
      llmCallKey(resolveLlmSettings({ provider: 'gemini', model: 'm' }), {
        ...request,
        image: { bytes: new Uint8Array([1, 2, 3]), mimeType: 'image/jpeg' },
      }),
    ).not.toBe(base);
  });
});
