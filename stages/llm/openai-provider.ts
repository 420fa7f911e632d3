import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionUserMessageParam,
} from 'openai/resources/chat/completions';
import { redactSecret } from '../../runner/redact-secrets.ts';
import { retryAfterFromHeaders } from '../../runner/retry-policy.ts';
import {
  type AttemptFailure,
  type AttemptOptions,
  type AttemptOutcome,
  type LlmProvider,
  type LlmRequest,
  withCorrection,
} from './llm-call.ts';

export interface OpenAiProviderOptions {
  /** Local servers (vLLM, llama.cpp, Ollama) accept any key; the SDK still wants one. */
  apiKey: string;
  model: string;
  baseUrl?: string;
}

/**
 * Any server that speaks OpenAI's chat completions, with `response_format: json_schema`.
 * The SDK's own retries are off (`maxRetries: 0`) for the same reason as Gemini's: the client
 * retries and shares the pause. `max_tokens` rather than `max_completion_tokens`, because the
 * open servers this is meant for read the older name.
 */
export function openAiProvider(options: OpenAiProviderOptions): LlmProvider {
  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
    maxRetries: 0,
    // The client's own per-attempt timeout (an abort signal) is the one that counts.
    timeout: 24 * 60 * 60 * 1000,
  });
  return {
    name: 'openai',
    async attempt(request: LlmRequest, attempt: AttemptOptions): Promise<AttemptOutcome> {
      const text = withCorrection(request.prompt, attempt.correction);
      const user: ChatCompletionUserMessageParam = request.image
        ? {
            role: 'user',
            content: [
              { type: 'text', text },
              {
                type: 'image_url',
                image_url: {
                  url: `data:${request.image.mimeType};base64,${Buffer.from(request.image.bytes).toString('base64')}`,
                },
              },
            ],
          }
        : { role: 'user', content: text };
      let completion: ChatCompletion;
      try {
        completion = await client.chat.completions.create(
          {
            model: options.model,
            messages: [{ role: 'system', content: request.system }, user],
            response_format: {
              type: 'json_schema',
              json_schema: { name: 'answer', schema: request.schema, strict: true },
            },
            temperature: attempt.temperature,
            max_tokens: attempt.maxOutputTokens,
          },
          { signal: attempt.signal },
        );
      } catch (error: unknown) {
        return { ok: false, failure: classifyError(error, options.apiKey, options.model) };
      }
      const reasoning = completion.usage?.completion_tokens_details?.reasoning_tokens;
      const usage = {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
        ...(reasoning !== undefined ? { thoughtTokens: reasoning } : {}),
      };
      const choice = completion.choices[0];
      const content = choice?.message.content ?? '';
      if (choice?.message.refusal) {
        return {
          ok: false,
          failure: { reason: 'safety-block', message: `refused: ${choice.message.refusal}`, usage },
        };
      }
      if (choice?.finish_reason === 'content_filter') {
        return {
          ok: false,
          failure: {
            reason: 'safety-block',
            message: 'answer stopped: content_filter',
            raw: content,
            usage,
          },
        };
      }
      if (choice?.finish_reason === 'length') {
        return {
          ok: false,
          failure: {
            reason: 'max-tokens',
            message: 'answer cut off at the output budget (finish_reason length)',
            raw: content,
            usage,
          },
        };
      }
      return {
        ok: true,
        text: content,
        usage,
        ...(completion.model ? { modelVersion: completion.model } : {}),
      };
    },
    async close() {},
  };
}

function classifyError(error: unknown, apiKey: string, model: string): AttemptFailure {
  if (error instanceof APIUserAbortError)
    return { reason: 'cancelled', message: 'request aborted' };
  if (error instanceof APIConnectionError) {
    return { reason: 'network', message: redactSecret(error.message, apiKey) };
  }
  if (error instanceof APIError && error.status !== undefined) {
    const message = redactSecret(`HTTP ${error.status}: ${error.message}`, apiKey);
    const retryAfterMs = retryAfterFromHeaders(error.headers);
    const withWait = retryAfterMs === undefined ? {} : { retryAfterMs };
    if (error.status === 429) return { reason: 'rate-limited', message, ...withWait };
    if (error.status === 408 || error.status >= 500)
      return { reason: 'server-error', message, ...withWait };
    if (error.status === 401 || error.status === 403) return { reason: 'unauthorized', message };
    if (error.status === 404) {
      return {
        reason: 'model-not-found',
        message: `${message} (llm.model ${model} is not served at this endpoint)`,
      };
    }
    return { reason: 'invalid-request', message };
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return { reason: 'cancelled', message: 'request aborted' };
  }
  return {
    reason: 'network',
    message: redactSecret(error instanceof Error ? error.message : String(error), apiKey),
  };
}
