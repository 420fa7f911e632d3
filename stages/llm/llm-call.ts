/**
 * The vocabulary shared by every provider and by the client that wraps them: what one
 * structured call asks for, what it returns, and how it fails.
 */

/** The levels Gemini 3 models take (the SDK's ThinkingLevel, in the spec's lower case). */
export type ThinkingLevelSetting = 'minimal' | 'low' | 'medium' | 'high';

/** One structured call: the answer must be JSON matching `schema`. */
export interface LlmRequest {
  system: string;
  prompt: string;
  /** JSON Schema (the subset all three providers constrain to: object, properties, required, enum, type, items). */
  schema: Record<string, unknown>;
  /** Sent only when the stage's `send_images` is on; the digest enters the call's content key. */
  image?: LlmImage;
}

export interface LlmImage {
  bytes: Uint8Array;
  mimeType: string;
}

export interface LlmUsage {
  inputTokens: number;
  /** Every billed output token: the answer and, for thinking models, the thoughts. */
  outputTokens: number;
  /** The part of outputTokens the model spent thinking (Gemini's thoughtsTokenCount). */
  thoughtTokens?: number;
}

export interface LlmAnswer {
  /** The parsed answer, valid against the request's schema. */
  value: unknown;
  usage: LlmUsage;
  /** The answer text as the model wrote it, kept for audit and for fallbacks. */
  raw: string;
  /** True when the answer came from the memo and nothing was paid for it. */
  cached: boolean;
  /** The model version that answered (Gemini's modelVersion, OpenAI's `model`), when told. */
  modelVersion?: string;
}

export type LlmFailureReason =
  /** 429 or RESOURCE_EXHAUSTED, still there after the last attempt. */
  | 'rate-limited'
  /** 5xx (and 408) still there after the last attempt. */
  | 'server-error'
  /** No answer within the request timeout, on every attempt. */
  | 'timeout'
  /** Connection refused or reset. */
  | 'network'
  /** The provider refused on safety grounds (prompt blocked, candidate stopped for SAFETY, refusal). */
  | 'safety-block'
  /** Every attempt answered something that is not JSON matching the schema. */
  | 'malformed-answer'
  /** 400 and friends: retrying the same request cannot help. */
  | 'invalid-request'
  /** The output budget ran out before the answer closed (Gemini MAX_TOKENS, OpenAI `length`). */
  | 'max-tokens'
  /** 404 for the model: unknown, or retired by the provider. No call of the stage can succeed. */
  | 'model-not-found'
  /** 401/403: the key is wrong or lacks access. */
  | 'unauthorized'
  | 'missing-credentials'
  /** The local GGUF model is not installed and could not be. */
  | 'missing-model'
  /** The provider cannot take this input (an image for a text-only local model). */
  | 'unsupported-input'
  | 'cancelled';

export interface LlmFailure {
  reason: LlmFailureReason;
  /** Human-readable, never contains an API key. */
  message: string;
  /** The last answer text, when there was one (malformed answers, safety refusals). */
  raw?: string;
  attempts: number;
  /** Set when the failure comes from the memo (a malformed-answer call made before). */
  remembered?: boolean;
}

/**
 * What one provider does for one HTTP request or one local generation, before any retry.
 * The client decides what to retry; the provider only classifies.
 */
export interface LlmProvider {
  readonly name: 'gemini' | 'openai' | 'local';
  attempt(request: LlmRequest, options: AttemptOptions): Promise<AttemptOutcome>;
  /**
   * Loads what the provider needs before its first call (its SDK, a local model), so that the
   * request timeout measures the service and not the start-up; idempotent.
   */
  prepare?(): Promise<void>;
  /** Frees what the provider holds (the local model); idempotent. */
  close(): Promise<void>;
  /**
   * Slots decoded in lock-step (the local provider's parallel sequences). A stage that uses
   * them runs its items in waves of `lanes`, one item per slot, between beginSlot and endSlot.
   */
  readonly lanes?: number;
  beginSlot?(slot: number): void;
  endSlot?(slot: number): void;
}

export interface AttemptOptions {
  signal: AbortSignal;
  temperature: number;
  /** The answer's budget; a thinking budget comes on top of it (see thinkingBudget). */
  maxOutputTokens: number;
  /** Gemini thinking tokens (0 off, -1 the model decides); other providers ignore it. */
  thinkingBudget?: number;
  /**
   * Gemini 3's thinking control (`thinkingConfig.thinkingLevel`); when set it is sent instead of
   * the budget (Gemini refuses both at once), and the budget is only the room kept for thoughts.
   */
  thinkingLevel?: ThinkingLevelSetting;
  /** Set on a retry after a malformed answer, so the model hears what went wrong. */
  correction?: string;
  /** The lock-step slot of the item this call is for (see LlmProvider.lanes). */
  slot?: number;
}

export type AttemptOutcome =
  | { ok: true; text: string; usage: LlmUsage; modelVersion?: string }
  | { ok: false; failure: AttemptFailure };

export interface AttemptFailure {
  reason: Exclude<LlmFailureReason, 'malformed-answer' | 'cancelled'> | 'cancelled';
  message: string;
  /** From Retry-After or Gemini's RetryInfo, when the server said how long to wait. */
  retryAfterMs?: number;
  raw?: string;
  /** Tokens the provider billed for a failed attempt (a safety-stopped candidate). */
  usage?: LlmUsage;
}

/** Failures worth another attempt of the same request. */
export function isTransient(reason: AttemptFailure['reason']): boolean {
  return (
    reason === 'rate-limited' ||
    reason === 'server-error' ||
    reason === 'timeout' ||
    reason === 'network'
  );
}

/**
 * Failures that no other call of the same stage can escape (the model is gone, the key is
 * refused): the stage stops at the first one instead of failing, and paying for, every item.
 */
export function isFatalForStage(reason: LlmFailureReason): boolean {
  return reason === 'model-not-found' || reason === 'unauthorized';
}

/** The prompt of a retry after a malformed answer: the same request plus what went wrong. */
export function withCorrection(prompt: string, correction: string | undefined): string {
  return correction ? `${prompt}\n\n${correction}` : prompt;
}
