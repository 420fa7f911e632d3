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
import { hasLockstepInternals, LockstepBatching } from './lockstep-batching.ts';

export interface LocalProviderOptions {
  /** Absolute path of the GGUF file (see ensureLocalModel). */
  modelPath: string;
  /**
   * llama.cpp spins its worker threads; on a small shared machine more than one thread per
   * free core makes generation tens of times slower (measured: 1 thread 1 s, default 230 s).
   */
  threads?: number;
  /** Context tokens of each sequence. */
  contextSize?: number;
  /**
   * Sequences decoded at once in one context, one per slot: node-llama-cpp evaluates the next
   * token of every live slot in one batch (see lockstep-batching.ts for why in lock-step).
   */
  parallel?: number;
}

interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  /** Slot i decodes in sequence i, always: the slot is part of what decides the numbers. */
  sequences: LlamaContextSequence[];
  /** Calls waiting for their slot's sequence (a slot runs one call at a time). */
  slotQueues: Promise<unknown>[];
  /** Calls in flight, so close waits for them. */
  busy: Set<Promise<unknown>>;
  grammars: Map<string, LlamaGrammar>;
}

/**
 * A GGUF model run in-process by node-llama-cpp's prebuilt CPU binary (no build, no download:
 * `build: 'never'`). The answer is constrained by a grammar made from the JSON Schema. Each call
 * is a new chat (system prompt and one user turn), so calls stay independent like the remote
 * providers' calls. Input tokens count what was evaluated, so a reused prefix counts once.
 */
export function localProvider(options: LocalProviderOptions): LlmProvider {
  const parallel = options.parallel ?? 1;
  // One sequence needs no barrier: its steps are the same whatever the timing.
  const lockstep = parallel > 1 ? new LockstepBatching() : undefined;
  let loading: Promise<LoadedModel> | undefined;
  const load = () => {
    loading ??= loadModel(options, parallel, lockstep);
    return loading;
  };
  return {
    name: 'local',
    lanes: parallel,
    beginSlot: (slot) => lockstep?.begin(slot),
    endSlot: (slot) => lockstep?.end(slot),
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
      const slot = (attempt.slot ?? 0) % parallel;
      const sequence = loaded.sequences[slot] as LlamaContextSequence;
      const run = (loaded.slotQueues[slot] ?? Promise.resolve()).then(() =>
        generate(loaded, sequence, request, attempt),
      );
      loaded.slotQueues[slot] = run.catch(() => undefined);
      loaded.busy.add(run);
      void run.finally(() => loaded.busy.delete(run)).catch(() => undefined);
      return run;
    },
    async close() {
      if (!loading) return;
      const loaded = await loading;
      loading = undefined;
      await Promise.allSettled([...loaded.busy]);
      await loaded.context.dispose();
      await loaded.model.dispose();
      await loaded.llama.dispose();
    },
  };
}

async function loadModel(
  options: LocalProviderOptions,
  parallel: number,
  lockstep: LockstepBatching | undefined,
): Promise<LoadedModel> {
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
  const contextSize = options.contextSize ?? 2048;
  const context = await model.createContext({
    contextSize,
    sequences: parallel,
    // Room for every slot's whole prompt in one batch, so a prompt is never cut by its neighbours'.
    batchSize: contextSize * parallel,
    threads,
    ...(lockstep ? { batching: lockstep.options() } : {}),
  });
  const sequences = Array.from({ length: parallel }, () => context.getSequence());
  if (lockstep && !hasLockstepInternals(context, sequences[0] as LlamaContextSequence)) {
    throw new Error('node-llama-cpp changed the context internals the lock-step batching reads');
  }
  lockstep?.attach(context, sequences);
  return {
    llama,
    model,
    context,
    sequences,
    slotQueues: [],
    busy: new Set(),
    grammars: new Map(),
  };
}

async function generate(
  loaded: LoadedModel,
  sequence: LlamaContextSequence,
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
  await sequence.clearHistory();
  const before = sequence.tokenMeter.getState();
  const session = new LlamaChatSession({
    contextSequence: sequence,
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
    const after = sequence.tokenMeter.getState();
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
