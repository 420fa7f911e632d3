import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import { canonicalJson } from '../../runner/canonical-json.ts';
import {
  type AttemptOptions,
  type AttemptOutcome,
  type LlmProvider,
  type LlmRequest,
  withCorrection,
} from './llm-call.ts';

export interface LocalProviderOptions {
  /** Absolute path of the GGUF file (see ensureLocalModel). */
  modelPath: string;
  /**
   * llama.cpp spins its worker threads; on a small shared machine more than one thread per
   * free core makes generation tens of times slower (measured: 1 thread 1 s, default 230 s).
   */
  threads?: number;
  contextSize?: number;
}

interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  grammars: Map<string, LlamaGrammar>;
  /** Generations run one after another on the one sequence. */
  queue: Promise<unknown>;
}

/**
 * A GGUF model run in-process by node-llama-cpp's prebuilt CPU binary (no build, no download:
 * `build: 'never'`). The answer is constrained by a grammar made from the JSON Schema. Each call
 * is a new chat (system prompt and one user turn), so calls stay independent like the remote
 * providers' calls. Input tokens count what was evaluated, so a reused prefix counts once.
 */
export function localProvider(options: LocalProviderOptions): LlmProvider {
  let loading: Promise<LoadedModel> | undefined;
  const load = () => {
    loading ??= loadModel(options);
    return loading;
  };
  return {
    name: 'local',
    async attempt(request: LlmRequest, attempt: AttemptOptions): Promise<AttemptOutcome> {
      if (request.image) {
        return {
          ok: false,
          failure: {
            reason: 'unsupported-input',
            message: 'the local provider runs a text-only model; set llm.send_images: false',
          },
        };
      }
      const loaded = await load();
      const run = loaded.queue.then(() => generate(loaded, request, attempt));
      loaded.queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (!loading) return;
      const loaded = await loading;
      loading = undefined;
      await loaded.queue;
      await loaded.context.dispose();
      await loaded.model.dispose();
      await loaded.llama.dispose();
    },
  };
}

async function loadModel(options: LocalProviderOptions): Promise<LoadedModel> {
  // Imported lazily: the native addon costs time and memory that remote-provider runs never need.
  const { getLlama } = await import('node-llama-cpp');
  const threads = options.threads ?? 1;
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    logLevel: 'error' as never,
    maxThreads: threads,
  });
  const model = await llama.loadModel({ modelPath: options.modelPath });
  const context = await model.createContext({ contextSize: options.contextSize ?? 2048, threads });
  return {
    llama,
    model,
    context,
    sequence: context.getSequence(),
    grammars: new Map(),
    queue: Promise.resolve(),
  };
}

async function generate(
  loaded: LoadedModel,
  request: LlmRequest,
  attempt: AttemptOptions,
): Promise<AttemptOutcome> {
  if (attempt.signal.aborted)
    return { ok: false, failure: { reason: 'cancelled', message: 'aborted' } };
  const { LlamaChatSession } = await import('node-llama-cpp');
  const grammar = await grammarFor(loaded, request.schema);
  // Every call starts from an empty context. Reusing the previous call's cached prefix is
  // faster, but the cache's numbers depend on which call came before (and on how the prompt
  // was split into batches), so after a crash the resumed items could come out differently
  // (seen: 1 answer of 105 in the demo) and a resumed sweep would not match an uninterrupted one.
  await loaded.sequence.clearHistory();
  const before = loaded.sequence.tokenMeter.getState();
  const session = new LlamaChatSession({
    contextSequence: loaded.sequence,
    systemPrompt: request.system,
    autoDisposeSequence: false,
  });
  try {
    const text = await session.prompt(withCorrection(request.prompt, attempt.correction), {
      grammar,
      maxTokens: attempt.maxOutputTokens,
      temperature: attempt.temperature,
      signal: attempt.signal,
    });
    const after = loaded.sequence.tokenMeter.getState();
    return {
      ok: true,
      text,
      usage: {
        inputTokens: after.usedInputTokens - before.usedInputTokens,
        outputTokens: after.usedOutputTokens - before.usedOutputTokens,
      },
    };
  } catch (error: unknown) {
    if (attempt.signal.aborted)
      return { ok: false, failure: { reason: 'cancelled', message: 'aborted' } };
    // A context overflow or a native error: not worth a retry of the same prompt.
    return {
      ok: false,
      failure: {
        reason: 'invalid-request',
        message: `local generation failed: ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  } finally {
    session.dispose({ disposeSequence: false });
  }
}

async function grammarFor(
  loaded: LoadedModel,
  schema: Record<string, unknown>,
): Promise<LlamaGrammar> {
  const key = canonicalJson(schema);
  let grammar = loaded.grammars.get(key);
  if (!grammar) {
    // Our schemas stay inside the grammar's subset (object, string, integer, enum, array).
    grammar = await loaded.llama.createGrammarForJsonSchema(schema as never);
    loaded.grammars.set(key, grammar);
  }
  return grammar;
}
