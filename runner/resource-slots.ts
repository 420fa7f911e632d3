import type { StageResources } from './stage-kind.ts';

/** What one running stage occupies: this machine's slots, or one slot of a remote executor. */
export type SlotDemand = { remote: true } | { remote: false; resources: StageResources };

export interface SlotLimits {
  /** CPU slots (`--jobs`); a stage asking for more than all of them gets all of them. */
  jobs: number;
  gpuSlots: number;
  /** Stages running at once against each LLM provider. */
  llmConcurrency: number;
  /** Jobs a remote executor runs at once (0 without one). */
  remoteSlots: number;
}

/**
 * The scheduler's bookkeeping of free resources, kept apart from its event loop so the rules
 * (a stage larger than the machine still runs alone, LLM providers are counted separately, a
 * remote stage uses none of this machine's slots) are plain logic with plain tests.
 */
export class ResourceSlots {
  readonly #limits: SlotLimits;
  #cpu: number;
  #gpu: number;
  #remote: number;
  readonly #llm = new Map<string, number>();

  constructor(limits: SlotLimits) {
    this.#limits = limits;
    this.#cpu = Math.max(1, limits.jobs);
    this.#gpu = limits.gpuSlots;
    this.#remote = limits.remoteSlots;
  }

  /** Takes the slots if all are free (then true); takes nothing otherwise. */
  take(demand: SlotDemand): boolean {
    if (demand.remote) {
      if (this.#remote < 1) return false;
      this.#remote -= 1;
      return true;
    }
    const { cpu, gpu, llm } = this.#needs(demand.resources);
    const llmFree = llm ? (this.#llm.get(llm) ?? this.#limits.llmConcurrency) : 1;
    if (this.#cpu < cpu || this.#gpu < gpu || llmFree < 1) return false;
    this.#cpu -= cpu;
    this.#gpu -= gpu;
    if (llm) this.#llm.set(llm, llmFree - 1);
    return true;
  }

  /** Returns what a finished stage took. */
  give(demand: SlotDemand): void {
    if (demand.remote) {
      this.#remote += 1;
      return;
    }
    const { cpu, gpu, llm } = this.#needs(demand.resources);
    this.#cpu += cpu;
    this.#gpu += gpu;
    if (llm) this.#llm.set(llm, (this.#llm.get(llm) ?? 0) + 1);
  }

  #needs(resources: StageResources): { cpu: number; gpu: number; llm?: string } {
    return {
      cpu: Math.min(resources.cpu ?? 1, Math.max(1, this.#limits.jobs)),
      gpu: resources.gpu ?? 0,
      ...(resources.llm ? { llm: resources.llm } : {}),
    };
  }
}
