import {
  ApiError,
  type GenerateContentResponse,
  GoogleGenAI,
  type Part,
  type ThinkingConfig,
  type ThinkingLevel,
} from '@google/genai';
import { redactSecret } from '../../runner/redact-secrets.ts';
import { parseRetryAfter } from '../../runner/retry-policy.ts';
import { isInvalidKey, retryInfoDelayMs } from './gemini-api-errors.ts';
import { geminiResponseSchema } from './gemini-schema.ts';
import {
  type AttemptFailure,
  type AttemptOptions,
  type AttemptOutcome,
  type LlmProvider,
  type LlmRequest,
  type ThinkingLevelSetting,
  withCorrection,
} from './llm-call.ts';

export interface GeminiProviderOptions {
  apiKey: string;
  model: string;
  /** A Gemini-protocol endpoint other than Google's (a proxy, or the tests' local server). */
  baseUrl?: string;
}

/** Finish reasons that mean the provider refused on content grounds, not that it failed. */
const BLOCKING_FINISH_REASONS = new Set([
  'SAFETY',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'RECITATION',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
]);

/**
 * Gemini through @google/genai. The SDK's own retries stay off (no `retryOptions`): the client
 * retries, so it can honour Retry-After and RetryInfo and share the pause with other callers.
 * The SDK does not expose response headers on errors, so each request goes through a fetch
 * that notes the Retry-After header on the way back.
 */
export function geminiProvider(options: GeminiProviderOptions): LlmProvider {
  const ai = new GoogleGenAI({
    apiKey: options.apiKey,
    // Pinned: the SDK's default moved to v1, and structured output (responseJsonSchema) is
    // documented on v1beta.
    apiVersion: 'v1beta',
    ...(options.baseUrl ? { httpOptions: { baseUrl: options.baseUrl } } : {}),
  });
  return {
    name: 'gemini',
    async attempt(request: LlmRequest, attempt: AttemptOptions): Promise<AttemptOutcome> {
      let retryAfterHeader: string | null = null;
      const noteHeaders = async (input: string | URL | Request, init?: RequestInit) => {
        const response = await fetch(input, init);
        retryAfterHeader = response.headers.get('retry-after');
        return response;
      };
      const parts: Part[] = [{ text: withCorrection(request.prompt, attempt.correction) }];
      if (request.image) {
        parts.push({
          inlineData: {
            mimeType: request.image.mimeType,
            data: Buffer.from(request.image.bytes).toString('base64'),
          },
        });
      }
      const thinking = attempt.thinkingBudget;
      const level = attempt.thinkingLevel;
      let response: GenerateContentResponse;
      try {
        response = await ai.models.generateContent({
          model: options.model,
          contents: [{ role: 'user', parts }],
          config: {
            systemInstruction: request.system,
            responseMimeType: 'application/json',
            responseJsonSchema: geminiResponseSchema(request.schema),
            temperature: attempt.temperature,
            // Gemini counts thoughts against maxOutputTokens: the thinking budget comes on top
            // of the answer's, so thinking can never eat the room the JSON needs.
            maxOutputTokens: attempt.maxOutputTokens + Math.max(0, thinking ?? 0),
            ...thinkingConfig(thinking, level),
            abortSignal: attempt.signal,
            httpOptions: { fetch: noteHeaders },
          },
        });
      } catch (error: unknown) {
        return {
          ok: false,
          failure: classifyError(error, retryAfterHeader, options.apiKey, options.model),
        };
      }
      return readResponse(response);
    },
    async close() {},
  };
}

/** Gemini answers 400 to a request with both a level and a budget: the level wins. */
function thinkingConfig(
  budget: number | undefined,
  level: ThinkingLevelSetting | undefined,
): { thinkingConfig?: ThinkingConfig } {
  if (level) return { thinkingConfig: { thinkingLevel: level.toUpperCase() as ThinkingLevel } };
  return budget === undefined ? {} : { thinkingConfig: { thinkingBudget: budget } };
}

function readResponse(response: GenerateContentResponse): AttemptOutcome {
  const meta = response.usageMetadata;
  const usage = {
    inputTokens: meta?.promptTokenCount ?? 0,
    // Thinking tokens are billed as output.
    outputTokens: (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0),
    thoughtTokens: meta?.thoughtsTokenCount ?? 0,
  };
  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason) {
    return {
      ok: false,
      failure: {
        reason: 'safety-block',
        message: `prompt blocked: ${blockReason}${response.promptFeedback?.blockReasonMessage ? ` (${response.promptFeedback.blockReasonMessage})` : ''}`,
        usage,
      },
    };
  }
  const candidate = response.candidates?.[0];
  const text = (candidate?.content?.parts ?? [])
    .filter((part) => !part.thought && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
  const finish = candidate?.finishReason;
  if (finish && BLOCKING_FINISH_REASONS.has(finish)) {
    return {
      ok: false,
      failure: { reason: 'safety-block', message: `answer stopped: ${finish}`, raw: text, usage },
    };
  }
  if (finish === 'MAX_TOKENS') {
    return {
      ok: false,
      failure: {
        reason: 'max-tokens',
        message: `answer cut off at the output budget (MAX_TOKENS; ${usage.thoughtTokens} of ${usage.outputTokens} output tokens were thoughts)`,
        raw: text,
        usage,
      },
    };
  }
  return {
    ok: true,
    text,
    usage,
    ...(response.modelVersion ? { modelVersion: response.modelVersion } : {}),
  };
}

function classifyError(
  error: unknown,
  retryAfterHeader: string | null,
  apiKey: string,
  model: string,
): AttemptFailure {
  if (error instanceof ApiError) {
    const message = redactSecret(`HTTP ${error.status}: ${error.message}`, apiKey);
    const retryAfterMs =
      parseRetryAfter(retryAfterHeader) ?? retryInfoDelayMs(parseJson(error.message));
    const withWait = retryAfterMs === undefined ? {} : { retryAfterMs };
    if (error.status === 429) return { reason: 'rate-limited', message, ...withWait };
    if (error.status === 408 || error.status >= 500)
      return { reason: 'server-error', message, ...withWait };
    if (error.status === 401 || error.status === 403 || isInvalidKey(error)) {
      return { reason: 'unauthorized', message };
    }
    if (error.status === 404) {
      return {
        reason: 'model-not-found',
        message: `${message} (llm.model ${model} is unknown or retired at the provider)`,
      };
    }
    return { reason: 'invalid-request', message };
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return { reason: 'cancelled', message: 'request aborted' };
  }
  const text = error instanceof Error ? `${error.message}${causeOf(error)}` : String(error);
  return { reason: 'network', message: redactSecret(text, apiKey) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function causeOf(error: Error): string {
  return error.cause instanceof Error ? ` (${error.cause.message})` : '';
}
