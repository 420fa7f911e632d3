import { describe, expect, it } from 'vitest';
import { llmFingerprints, llmPreflight } from '../../stages/llm/llm-preflight.ts';

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
