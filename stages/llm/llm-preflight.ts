import type { ApiError } from '@google/genai';
import {
  describeRequestError,
  type PreflightCheck,
  type PreflightContext,
} from '../../runner/preflight-check.ts';
import { redactSecret } from '../../runner/redact-secrets.ts';
import { isInvalidKey } from './gemini-api-errors.ts';
import { apiKeyFrom, type LlmSettings, resolveLlmSettings } from './llm-settings.ts';
import { isKnownLocalModel } from './local-model.ts';

/** A model lookup answers in well under a second; this long means the endpoint is not there. */
const CHECK_TIMEOUT_MS = 20_000;
const GEMINI_MODELS_PAGE = 'https://ai.google.dev/gemini-api/docs/models';

/**
 * What an LLM stage proves before anything runs, with the cheapest real call there is:
 * Gemini's models.get of the configured model (free, and the answer to "is it retired?"), an
 * OpenAI-compatible server's GET /models listing it, or for the local provider that the model
 * is one we know how to install. Keys are looked at by variable name; a value only ever goes
 * to its provider. Three LLM kinds on one model share one request (`ctx.once`).
 */
export async function llmPreflight(
  raw: Record<string, unknown> | undefined,
  ctx: PreflightContext,
): Promise<PreflightCheck[]> {
  const settings = resolveLlmSettings(raw);
  switch (settings.provider) {
    case 'gemini':
      return [await geminiCheck(settings, ctx)];
    case 'openai':
      return [await openAiCheck(settings, ctx)];
    case 'local':
      return localChecks(settings);
  }
}

async function geminiCheck(settings: LlmSettings, ctx: PreflightContext): Promise<PreflightCheck> {
  const subject = `Gemini model ${settings.model}`;
  const { name, key } = apiKeyFrom(settings, ctx.env);
  if (!key) {
    return {
      part: 'llm',
      subject,
      outcome: 'failed',
      detail: `no API key: ${name} is not set (export it; the key never goes in a spec)`,
      setting: name,
    };
  }
  const where = settings.base_url ?? 'https://generativelanguage.googleapis.com';
  const budget = settings.max_output_tokens + Math.max(0, settings.thinking_budget ?? 0);
  return ctx.once(`gemini|${where}|${settings.model}|${name}|${budget}`, async () => {
    // The SDKs load only when a spec uses them: validate and plan never pay their start-up.
    const { ApiError, GoogleGenAI } = await import('@google/genai');
    const ai = new GoogleGenAI({
      apiKey: key,
      apiVersion: 'v1beta',
      httpOptions: { ...(settings.base_url ? { baseUrl: settings.base_url } : {}) },
    });
    try {
      const model = await ai.models.get({
        model: settings.model,
        config: {
          abortSignal: AbortSignal.any([ctx.signal, AbortSignal.timeout(CHECK_TIMEOUT_MS)]),
          httpOptions: { fetch: ctx.fetch },
        },
      });
      if (model.supportedActions && !model.supportedActions.includes('generateContent')) {
        return {
          part: 'llm',
          subject,
          outcome: 'failed',
          detail: `served, but not for generateContent (it supports ${model.supportedActions.join(', ')})`,
          setting: 'llm.model',
        };
      }
      if (model.outputTokenLimit !== undefined && budget > model.outputTokenLimit) {
        return {
          part: 'llm',
          subject,
          outcome: 'failed',
          detail: `answer plus thinking budget (${budget} tokens) exceeds the model's output limit of ${model.outputTokenLimit}`,
          setting: 'llm.max_output_tokens',
        };
      }
      return {
        part: 'llm',
        subject,
        outcome: 'passed',
        detail: `served at ${where} (${model.name ?? settings.model}${model.version ? `, version ${model.version}` : ''}${model.outputTokenLimit ? `, up to ${model.outputTokenLimit} output tokens` : ''})`,
      };
    } catch (error: unknown) {
      return geminiFailure(
        error instanceof ApiError ? error : undefined,
        error,
        subject,
        settings,
        name,
        key,
        where,
      );
    }
  });
}

function geminiFailure(
  apiError: ApiError | undefined,
  error: unknown,
  subject: string,
  settings: LlmSettings,
  keyName: string,
  key: string,
  where: string,
): PreflightCheck {
  const failed = (detail: string, setting?: string): PreflightCheck => ({
    part: 'llm',
    subject,
    outcome: 'failed',
    detail: redactSecret(detail, key),
    ...(setting ? { setting } : {}),
  });
  if (apiError) {
    if (apiError.status === 404) {
      return failed(
        `not served: Gemini answers 404 NOT_FOUND (the model is unknown or retired; current ones are listed at ${GEMINI_MODELS_PAGE})`,
        'llm.model',
      );
    }
    if (apiError.status === 401 || apiError.status === 403 || isInvalidKey(apiError)) {
      return failed(`the key in ${keyName} is refused (HTTP ${apiError.status})`, keyName);
    }
    return failed(
      `HTTP ${apiError.status}: ${firstLine(apiError.message)}`,
      settings.base_url ? 'llm.base_url' : undefined,
    );
  }
  return failed(
    `could not reach ${where}: ${describeRequestError(error)}`,
    settings.base_url ? 'llm.base_url' : undefined,
  );
}

async function openAiCheck(settings: LlmSettings, ctx: PreflightContext): Promise<PreflightCheck> {
  const subject = `OpenAI-compatible model ${settings.model}`;
  const { name, key } = apiKeyFrom(settings, ctx.env);
  if (!key && settings.api_key_env) {
    return {
      part: 'llm',
      subject,
      outcome: 'failed',
      detail: `llm.api_key_env names ${name}, which is not set`,
      setting: 'llm.api_key_env',
    };
  }
  const where = settings.base_url ?? 'https://api.openai.com/v1';
  return ctx.once(`openai|${where}|${settings.model}|${name}`, async () => {
    const { default: OpenAI, APIError } = await import('openai');
    const client = new OpenAI({
      apiKey: key ?? 'no-key',
      ...(settings.base_url ? { baseURL: settings.base_url } : {}),
      maxRetries: 0,
      timeout: CHECK_TIMEOUT_MS,
      fetch: ctx.fetch,
    });
    const failed = (detail: string, setting?: string): PreflightCheck => ({
      part: 'llm',
      subject,
      outcome: 'failed',
      detail: key ? redactSecret(detail, key) : detail,
      ...(setting ? { setting } : {}),
    });
    try {
      const served: string[] = [];
      for await (const model of client.models.list({ signal: ctx.signal })) {
        served.push(model.id);
      }
      if (!served.includes(settings.model)) {
        return failed(
          `${where}/models does not list it (it serves ${served.slice(0, 8).join(', ') || 'nothing'}${served.length > 8 ? ', ...' : ''})`,
          'llm.model',
        );
      }
      return { part: 'llm', subject, outcome: 'passed', detail: `listed by ${where}/models` };
    } catch (error: unknown) {
      if (error instanceof APIError && (error.status === 401 || error.status === 403)) {
        return failed(
          `the key in ${name || 'OPENAI_API_KEY'} is refused (HTTP ${error.status})`,
          name || 'llm.api_key_env',
        );
      }
      if (error instanceof APIError && error.status !== undefined) {
        return failed(`${where}/models answers HTTP ${error.status}`, 'llm.base_url');
      }
      return failed(`could not reach ${where}: ${describeRequestError(error)}`, 'llm.base_url');
    }
  });
}

function localChecks(settings: LlmSettings): PreflightCheck[] {
  const subject = `local model ${settings.model}`;
  if (!isKnownLocalModel(settings.model)) {
    return [
      {
        part: 'llm',
        subject,
        outcome: 'failed',
        detail: 'the local provider knows it neither by name nor as a .gguf path',
        setting: 'llm.model',
      },
    ];
  }
  if (settings.send_images) {
    return [
      {
        part: 'llm',
        subject,
        outcome: 'failed',
        detail: 'the local provider runs a text-only model; it cannot take images',
        setting: 'llm.send_images',
      },
    ];
  }
  return [
    {
      part: 'llm',
      subject,
      outcome: 'passed',
      detail: 'runs in-process (installed on first use from its pinned package)',
    },
  ];
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.slice(0, 300) ?? '';
}
