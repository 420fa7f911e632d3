import type { LlmUsage } from './llm-call.ts';

/** USD per million tokens, as the spec's `llm.price` gives it. */
export interface PriceTable {
  input_per_million?: number;
  output_per_million?: number;
}

/**
 * What one stage spent on the LLM: every billed attempt (including failed and malformed ones,
 * which cost tokens too), and the answers served from the memo, which cost nothing.
 */
export class UsageMeter {
  /** Requests that reached the provider (each attempt counts). */
  calls = 0;
  inputTokens = 0;
  /** Billed output, thoughts included. */
  outputTokens = 0;
  /** The part of outputTokens spent thinking. */
  thoughtTokens = 0;
  /** Answers served from the memo. */
  cacheHits = 0;
  /** Attempts beyond the first, for any reason. */
  retries = 0;
  /** Calls that ended without a valid answer. */
  failures = 0;
  /** Answers per model version that wrote them, so an alias that moves shows. */
  readonly modelVersions: Record<string, number> = {};

  noteModelVersion(version: string | undefined): void {
    if (version) this.modelVersions[version] = (this.modelVersions[version] ?? 0) + 1;
  }

  addAttempt(usage: LlmUsage | undefined): void {
    this.calls++;
    if (usage) {
      this.inputTokens += usage.inputTokens;
      this.outputTokens += usage.outputTokens;
      this.thoughtTokens += usage.thoughtTokens ?? 0;
    }
  }

  /** USD, or undefined when no price is configured. */
  cost(price: PriceTable | undefined): number | undefined {
    if (!price || (price.input_per_million === undefined && price.output_per_million === undefined))
      return undefined;
    return (
      (this.inputTokens * (price.input_per_million ?? 0) +
        this.outputTokens * (price.output_per_million ?? 0)) /
      1_000_000
    );
  }

  /**
   * Tracking keys of the form `llm/<stage>/<what>` (e.g. `llm/annotate/input_tokens`), ready
   * for StageSummary.metrics.
   */
  metrics(stage: string, price: PriceTable | undefined): Record<string, number> {
    const prefix = `llm/${stage}/`;
    const metrics: Record<string, number> = {
      [`${prefix}calls`]: this.calls,
      [`${prefix}input_tokens`]: this.inputTokens,
      [`${prefix}output_tokens`]: this.outputTokens,
      [`${prefix}thought_tokens`]: this.thoughtTokens,
      [`${prefix}cache_hits`]: this.cacheHits,
      [`${prefix}retries`]: this.retries,
      [`${prefix}failures`]: this.failures,
    };
    const cost = this.cost(price);
    if (cost !== undefined) metrics[`${prefix}cost_usd`] = cost;
    return metrics;
  }
}
