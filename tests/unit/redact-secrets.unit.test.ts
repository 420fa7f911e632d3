import { describe, expect, it } from 'vitest';
import {
  looksSecretKey,
  REDACTED,
  redactSecret,
  redactSecrets,
  secretEnvValues,
} from '../../runner/redact-secrets.ts';

describe('redactSecrets', () => {
  it('knows secret-looking keys from harmless ones', () => {
    for (const key of [
      'api_key',
      'llm.api_key',
      'HF_TOKEN',
      'apiKey',
      'db.password',
      'client-secret',
      'MLFLOW_TRACKING_TOKEN',
      'aws_access_key',
    ]) {
      expect(looksSecretKey(key), key).toBe(true);
    }
    for (const key of [
      'llm.api_key_env',
      'max_output_tokens',
      'tokens_per_minute',
      'MLFLOW_TRACKING_USERNAME',
      'train.lora.rank',
      'key',
      'llm/annotate/input_tokens',
    ]) {
      expect(looksSecretKey(key), key).toBe(false);
    }
  });

  it('takes secret values from secret-named environment variables only', () => {
    const values = secretEnvValues({
      GEMINI_API_KEY: 'AIza-planted-123',
      HOME: '/root',
      SHORT_TOKEN: 'abc',
      PATH: '/bin',
    });
    expect(values).toEqual(['AIza-planted-123']);
  });

  it('removes a planted secret by key and by value, wherever it sits', () => {
    const secret = 'sk-planted-0123456789';
    const input = {
      llm: { api_key: secret, api_key_env: 'OPENAI_API_KEY', temperature: 0.2 },
      notes: [`called with ${secret} by mistake`, 'fine'],
      tags: [
        { key: 'hf_token', value: 'hf_abcdef' },
        { key: 'mlflow.user', value: 'me' },
      ],
      metrics: [{ key: 'llm/x/token_count', value: 12, step: 0 }],
    };
    const out = redactSecrets(input, [secret]);
    expect(out).toEqual({
      llm: { api_key: REDACTED, api_key_env: 'OPENAI_API_KEY', temperature: 0.2 },
      notes: [`called with ${REDACTED} by mistake`, 'fine'],
      tags: [
        { key: 'hf_token', value: REDACTED },
        { key: 'mlflow.user', value: 'me' },
      ],
      metrics: [{ key: 'llm/x/token_count', value: 12, step: 0 }],
    });
    expect(JSON.stringify(out)).not.toContain(secret);
    // The input is left as it was.
    expect(input.llm.api_key).toBe(secret);
  });

  it("cuts a provider's known key out of its error messages, with the same minimum length", () => {
    const key = 'AIzaSyExampleKey123';
    expect(redactSecret(`GET /v1beta/models?key=${key} failed`, key)).toBe(
      `GET /v1beta/models?key=${REDACTED} failed`,
    );
    expect(redactSecret('no key given', undefined)).toBe('no key given');
    // A value this short would shred ordinary text; no real key is this short.
    expect(redactSecret('abc abc', 'abc')).toBe('abc abc');
  });
});
