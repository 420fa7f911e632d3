import { describe, expect, it } from 'vitest';
import { llmCallKey } from '../../stages/llm/llm-client.ts';
import { llmFingerprints, llmPreflight } from '../../stages/llm/llm-preflight.ts';
import { resolveLlmSettings } from '../../stages/llm/llm-settings.ts';

describe('LLM preflight and fingerprints', () => {
  it('refuses a gemini spec without its key, by variable name only', () => {
    expect(llmPreflight({ provider: 'gemini', model: 'gemini-2.0-flash' }, {})).toEqual([
      expect.objectContaining({
        path: 'llm.provider',
        message: expect.stringContaining('GEMINI_API_KEY or GOOGLE_API_KEY'),
      }),
    ]);
    expect(
      llmPreflight({ provider: 'gemini', model: 'm' }, { GOOGLE_API_KEY: 'secret-value' }),
    ).toEqual([]);
    const named = llmPreflight(
      { provider: 'openai', base_url: 'http://x/v1', api_key_env: 'VLLM_KEY' },
      {},
    );
    expect(named).toEqual([expect.objectContaining({ path: 'llm.api_key_env' })]);
    expect(
      JSON.stringify(
        llmPreflight({ provider: 'gemini', model: 'm' }, { GEMINI_API_KEY: 'secret-value' }),
      ),
    ).not.toContain('secret-value');
  });

  it('refuses an unknown local model and images for the text-only local model', () => {
    expect(llmPreflight({ provider: 'local', model: 'gpt-5' }, {})).toEqual([
      expect.objectContaining({ path: 'llm.model' }),
    ]);
    expect(llmPreflight({ provider: 'local', send_images: true }, {})).toEqual([
      expect.objectContaining({ path: 'llm.send_images' }),
    ]);
    expect(llmPreflight({}, {})).toEqual([]);
  });

  it('keys the local model by the GGUF digest, remote ones by provider and model', () => {
    expect(llmFingerprints({})).toEqual({
      llm_model:
        'smollm2-135m-instruct-q4_1@sha256:b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    });
    expect(llmFingerprints({ provider: 'gemini', model: 'gemini-2.0-flash' })).toEqual({
      llm_model: 'gemini:gemini-2.0-flash',
    });
  });
});

describe('LLM call key', () => {
  const request = { system: 's', prompt: 'p', schema: { type: 'object' } };
  it('is pinned, so an accidental change of the key format fails loudly (and would re-pay every call)', () => {
    const settings = resolveLlmSettings({ provider: 'gemini', model: 'gemini-2.0-flash' });
    expect(llmCallKey(settings, request)).toBe(
      '94d0d214a00da8110e747a320d27bbac4309ece7d09039728b071b50db6ba846',
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
