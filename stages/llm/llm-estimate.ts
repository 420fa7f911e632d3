import { join } from 'node:path';
import type { PreflightContext, StageEstimate } from '../../runner/preflight-check.ts';
import { readJsonlLines } from '../shared/jsonl-file.ts';
import type { LlmRequest } from './llm-call.ts';
import { estimateTokens } from './llm-client.ts';
import { resolveLlmSettings } from './llm-settings.ts';

/**
 * What an LLM stage will buy: its calls (when the input it works through is already stored,
 * counted from it; otherwise said to be unknown, with the per-call bound), input tokens at four
 * characters a token, output and thought tokens at their budgets (so an upper bound), and USD
 * from `llm.price`. Calls already answered in the memo cost nothing, so a resumed stage costs
 * less than this.
 */
export function llmEstimate(
  raw: Record<string, unknown> | undefined,
  requests: readonly LlmRequest[] | undefined,
  unknownCalls: string,
): StageEstimate {
  const settings = resolveLlmSettings(raw);
  const thinking = settings.provider === 'gemini' ? (settings.thinking_budget ?? 0) : 0;
  const unboundedThoughts = thinking < 0;
  const perCallOutput = settings.max_output_tokens;
  const perCallThoughts = Math.max(0, thinking);
  const price = settings.price;
  const priced = price?.input_per_million !== undefined || price?.output_per_million !== undefined;
  const usdOf = (input: number, output: number) =>
    (input * (price?.input_per_million ?? 0) + output * (price?.output_per_million ?? 0)) / 1e6;
  const thoughtNote = unboundedThoughts ? '; thoughts unbounded (llm.thinking_budget -1)' : '';

  if (!requests) {
    return {
      amounts: {},
      note: `${unknownCalls}; each call at most ${perCallOutput} output${perCallThoughts ? ` + ${perCallThoughts} thought` : ''} tokens${priced ? ` (<= ${formatUsd(usdOf(0, perCallOutput + perCallThoughts))} of output)` : ''}${thoughtNote}`,
    };
  }
  const calls = requests.length;
  const input = requests.reduce((sum, request) => sum + estimateTokens(request), 0);
  const output = calls * perCallOutput;
  const thoughts = calls * perCallThoughts;
  return {
    amounts: {
      'llm calls': calls,
      'input tokens': input,
      'output tokens': output,
      ...(settings.provider === 'gemini' ? { 'thought tokens': thoughts } : {}),
    },
    ...(priced ? { usd: usdOf(input, output + thoughts) } : {}),
    note: `${settings.provider} ${settings.model}; output and thoughts at their budgets (an upper bound), memoized calls free${thoughtNote}`,
  };
}

/** The stored input's JSONL rows, or undefined when the input is not stored yet. */
export async function storedRows<T>(
  ctx: PreflightContext,
  input: string,
  file: string,
): Promise<T[] | undefined> {
  const dir = ctx.storedInput(input);
  if (!dir) return undefined;
  const lines = await readJsonlLines(join(dir, file));
  return lines.ok ? lines.value.map((line) => line.value as T) : undefined;
}

function formatUsd(usd: number): string {
  return `$${usd.toPrecision(2)}`;
}
