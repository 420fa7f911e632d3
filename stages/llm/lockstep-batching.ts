import type { BatchingOptions, LlamaContext, LlamaContextSequence } from 'node-llama-cpp';

/**
 * Deterministic batching for node-llama-cpp's parallel sequences.
 *
 * Decoding several sequences in one batch changes the numbers a sequence gets (llama.cpp splits
 * a multi-sequence batch into micro-batches by what every sequence brings, and its kernels sum
 * in another order): measured on SmolLM2-135M, 4 of 12 greedy answers differed between one
 * sequence and four (bench/llm-batching.ts). node-llama-cpp's default schedule dispatches
 * whatever is queued on the next event-loop turn, so which tokens share a batch depends on
 * timing, and a resumed run could not repeat an uninterrupted one.
 *
 * Here a batch goes out only when every live slot has its next decode queued (a slot is live
 * from the start of its item to its end, retries and later rounds included), and the batch is
 * ordered by sequence id. Then each step of a wave decodes the same tokens in the same order
 * whatever the timing, and a wave of the same items in the same slots gives the same answers.
 *
 * node-llama-cpp 3.21.1 tells a schedule nothing about what is queued; the barrier reads the
 * context's queue (`_queuedDecodes`, `_queuedDecodeSequenceIds`), internals of that pinned
 * version. tests/llm/local-batching.test.ts fails if they change.
 */
export class LockstepBatching {
  readonly #live = new Set<number>();
  #sequences: readonly LlamaContextSequence[] = [];
  #context: LlamaContext | undefined;
  #held: (() => void) | undefined;

  /** The context options that route node-llama-cpp's dispatch through this barrier. */
  options(): BatchingOptions {
    return {
      dispatchSchedule: (dispatch) => {
        this.#held = dispatch;
        this.#release();
      },
      itemPrioritizationStrategy: ({ items, size }) => {
        const ids = this.#sequenceIdsByTokens();
        const ordered = [...items].sort(
          (a, b) => (ids.get(a.tokens) ?? 0) - (ids.get(b.tokens) ?? 0),
        );
        const chosen: { item: (typeof items)[number]; processAmount: number }[] = [];
        let left = size;
        for (const item of ordered) {
          if (left <= 0) break;
          const processAmount = Math.min(item.tokens.length, left);
          chosen.push({ item, processAmount });
          left -= processAmount;
        }
        return chosen;
      },
    };
  }

  attach(context: LlamaContext, sequences: readonly LlamaContextSequence[]): void {
    this.#context = context;
    this.#sequences = sequences;
    // The barrier can only open when a decode is queued or a slot ends: hear of the first
    // from the queue itself (after the current call stack, once node-llama-cpp is done with
    // its own bookkeeping) rather than polling on every event-loop turn.
    const queued = (context as unknown as ContextInternals)._queuedDecodeSequenceIds;
    const add = queued.add.bind(queued);
    queued.add = (id: number) => {
      const result = add(id);
      queueMicrotask(() => this.#release());
      return result;
    };
  }

  /** Slot `slot` takes part in every step until it ends. */
  begin(slot: number): void {
    this.#live.add(slot);
  }

  end(slot: number): void {
    this.#live.delete(slot);
    this.#release();
  }

  #ready(): boolean {
    const queued = this.#internals()?._queuedDecodeSequenceIds;
    if (!queued) return true;
    for (const slot of this.#live) {
      const sequence = this.#sequences[slot] as unknown as SequenceInternals | undefined;
      if (sequence && !queued.has(sequence._sequenceId)) return false;
    }
    return true;
  }

  /** Sends the held batch once the barrier is met. */
  #release(): void {
    if (!this.#held || !this.#ready()) return;
    const dispatch = this.#held;
    this.#held = undefined;
    dispatch();
  }

  #sequenceIdsByTokens(): Map<unknown, number> {
    const map = new Map<unknown, number>();
    for (const queued of this.#internals()?._queuedDecodes ?? []) {
      map.set(queued.tokens, queued.sequenceId);
    }
    return map;
  }

  #internals(): ContextInternals | undefined {
    return this.#context as unknown as ContextInternals | undefined;
  }
}

interface SequenceInternals {
  _sequenceId: number;
}

interface ContextInternals {
  _queuedDecodeSequenceIds: Set<number>;
  _queuedDecodes: { sequenceId: number; tokens: unknown }[];
}

/** Whether the pinned node-llama-cpp still exposes what the barrier reads. */
export function hasLockstepInternals(
  context: LlamaContext,
  sequence: LlamaContextSequence,
): boolean {
  if (typeof (sequence as unknown as Partial<SequenceInternals>)._sequenceId !== 'number') {
    return false;
  }
  const internals = context as unknown as Partial<ContextInternals>;
  return (
    internals._queuedDecodeSequenceIds instanceof Set && Array.isArray(internals._queuedDecodes)
  );
}
