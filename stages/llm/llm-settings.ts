import type { StageResources } from '../../runner/stage-kind.ts';
import { llmSchema } from '../shared/spec-fragments.ts';
import type { ThinkingLevelSetting } from './llm-call.ts';

/**
 * The spec's `llm:` section as the client reads it, with the defaults of
 * stages/shared/spec-fragments.ts applied again here, so a stage called directly (tests,
 * benches) behaves like one called by the runner.
 */
export interface LlmSettings {
  provider: 'gemini' | 'openai' | 'local';
  model: string;
  base_url?: string;
  /** Name of the environment variable holding the key; never the key itself. */
  api_key_env?: string;
  temperature: number;
  /** Room for the answer itself; a thinking budget is granted on top of it. */
  max_output_tokens: number;
  /** Gemini thinking tokens per call (0 off, -1 the model decides); only gemini reads it. */
  thinking_budget?: number;
  /** Gemini 3's thinking level; sent instead of thinking_budget, which then only reserves room. */
  thinking_level?: ThinkingLevelSetting;
  send_images: boolean;
  /** Attempts per call, all failure kinds together (429, 5xx, timeouts, malformed answers). */
  max_attempts: number;
  rate_limit: RateLimitSettings;
  price?: { input_per_million?: number; output_per_million?: number };
  /** Per-request timeout; not yet in the spec schema, so 120 s unless a caller sets it. */
  request_timeout_s?: number;
  /** CPU threads for the local provider; more than 1 thrashes on a shared 2-core machine. */
  threads?: number;
  /** Sequences the local provider decodes at once (llm.parallel). */
  parallel: number;
}

export interface RateLimitSettings {
  requests_per_minute?: number;
  tokens_per_minute?: number;
  concurrency: number;
}

/** Every fallback below is the spec schema's default (spec-fragments.ts), read from it. */
const DEFAULTS = llmSchema.properties;

export const DEFAULT_LOCAL_MODEL = DEFAULTS.model.default;

/** The thinking budget's default lives with the spec schema (spec-fragments.ts). */
export const DEFAULT_GEMINI_THINKING_BUDGET = DEFAULTS.thinking_budget.default;

/** A MAX_TOKENS answer is tried once more with its answer budget multiplied by this. */
export const MAX_TOKENS_RETRY_FACTOR = 2;

export function resolveLlmSettings(raw: Record<string, unknown> | undefined): LlmSettings {
  const given = (raw ?? {}) as Partial<LlmSettings>;
  const provider = given.provider ?? DEFAULTS.provider.default;
  const rate = (given.rate_limit ?? {}) as Partial<RateLimitSettings>;
  const parallel = given.parallel ?? DEFAULTS.parallel.default;
  return {
    ...given,
    provider,
    model: given.model ?? DEFAULT_LOCAL_MODEL,
    temperature: given.temperature ?? DEFAULTS.temperature.default,
    max_output_tokens: given.max_output_tokens ?? DEFAULTS.max_output_tokens.default,
    ...(provider === 'gemini'
      ? { thinking_budget: given.thinking_budget ?? DEFAULT_GEMINI_THINKING_BUDGET }
      : {}),
    send_images: given.send_images ?? DEFAULTS.send_images.default,
    parallel,
    max_attempts: given.max_attempts ?? DEFAULTS.max_attempts.default,
    rate_limit: {
      ...rate,
      // A local model takes as many calls at once as it has sequences to decode them in.
      concurrency:
        provider === 'local'
          ? parallel
          : (rate.concurrency ?? DEFAULTS.rate_limit.properties.concurrency.default),
    },
  };
}

/** What an LLM stage occupies while it runs: a CPU slot and a call slot of its provider. */
export function llmStageResources(params: { llm: Record<string, unknown> }): StageResources {
  return { cpu: 1, llm: resolveLlmSettings(params.llm).provider };
}

/**
 * Where the key comes from: the named variable, else the provider's conventional ones.
 * Returns the variable's name too, so messages can say which one is missing without the value.
 */
export function apiKeyFrom(
  settings: LlmSettings,
  env: Readonly<Record<string, string | undefined>>,
): { name: string; key: string | undefined } {
  const names = settings.api_key_env
    ? [settings.api_key_env]
    : settings.provider === 'gemini'
      ? ['GEMINI_API_KEY', 'GOOGLE_API_KEY']
      : settings.provider === 'openai'
        ? ['OPENAI_API_KEY']
        : [];
  for (const name of names) {
    const key = env[name];
    if (key) return { name, key };
  }
  return { name: names.join(' or '), key: undefined };
}
