import type { PreflightCheck, PreflightContext, StageEstimate } from './preflight-check.ts';
import type { StageNode } from './stage-graph.ts';

/**
 * Runs the preflight of every stage about to run and gathers what they found: the checks
 * (identical ones from several stages reported once, with the stages that share them) and the
 * estimates, summed. The runner only collects; what a check proves is the kind's business.
 */
export interface PreflightReport {
  checks: ReportedCheck[];
  /** Per stage to run, its estimate (kinds without one are absent). */
  estimates: { stage: string; kind: string; estimate: StageEstimate }[];
  /** The estimates' amounts and USD summed over the stages to run. */
  totals: { amounts: Record<string, number>; usd?: number };
  failed: number;
}

export interface ReportedCheck extends PreflightCheck {
  /** Ids of the stages (or `tracking`) that asked for this check. */
  stages: string[];
}

export interface PreflightOptions {
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  fetch?: typeof fetch;
  /** Where a stored input's output lives; the store's layout, given by the caller. */
  storedOutputDir(key: string): string | undefined;
  /** Checks of parts that belong to no stage (tracking), run with the same context. */
  extra?: { name: string; run(ctx: PreflightContext): Promise<PreflightCheck[]> }[];
}

export async function runPreflight(
  nodes: readonly StageNode[],
  options: PreflightOptions,
): Promise<PreflightReport> {
  const shared = sharedChecks();
  const contextFor = (node: StageNode | undefined): PreflightContext =>
    preflightContext({
      env: options.env,
      signal: options.signal,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      shared,
      storedInput: (name) => {
        const key = node?.inputs[name];
        return key === undefined ? undefined : options.storedOutputDir(key);
      },
    });

  const byLine = new Map<string, ReportedCheck>();
  const add = (stage: string, checks: readonly PreflightCheck[]) => {
    for (const check of checks) {
      const line = JSON.stringify([
        check.part,
        check.subject,
        check.outcome,
        check.detail,
        check.setting,
      ]);
      const seen = byLine.get(line);
      if (seen) {
        if (!seen.stages.includes(stage)) seen.stages.push(stage);
      } else {
        byLine.set(line, { ...check, stages: [stage] });
      }
    }
  };
  const estimates: PreflightReport['estimates'] = [];
  // Stages one after another, so that `once` shares a check instead of racing to start two;
  // each check inside a stage may itself run its requests in parallel.
  for (const node of nodes) {
    const ctx = contextFor(node);
    add(node.id, (await node.kind.preflight?.(node.params, ctx)) ?? []);
    const estimate = await node.kind.estimate?.(node.params, ctx);
    const buys =
      estimate && (Object.keys(estimate.amounts).length > 0 || estimate.note || estimate.usd);
    if (estimate && buys) estimates.push({ stage: node.id, kind: node.kind.name, estimate });
  }
  for (const extra of options.extra ?? []) add(extra.name, await extra.run(contextFor(undefined)));

  const amounts: Record<string, number> = {};
  let usd: number | undefined;
  for (const { estimate } of estimates) {
    for (const [name, value] of Object.entries(estimate.amounts)) {
      amounts[name] = (amounts[name] ?? 0) + value;
    }
    if (estimate.usd !== undefined) usd = (usd ?? 0) + estimate.usd;
  }
  const checks = [...byLine.values()];
  return {
    checks,
    estimates,
    totals: { amounts, ...(usd !== undefined ? { usd } : {}) },
    failed: checks.filter((c) => c.outcome === 'failed').length,
  };
}

/** Results of `once` checks, shared by every context of one preflight. */
export type SharedChecks = Map<string, Promise<unknown>>;

export function sharedChecks(): SharedChecks {
  return new Map();
}

/**
 * A context for a kind's preflight and estimate hooks; `runPreflight` makes one per stage over
 * one shared map, and tests call a kind's hook with one directly.
 */
export function preflightContext(options: {
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  shared?: SharedChecks;
  storedInput?: (name: string) => string | undefined;
}): PreflightContext {
  const shared = options.shared ?? sharedChecks();
  return {
    env: options.env,
    signal: options.signal ?? new AbortController().signal,
    fetch: options.fetch ?? fetch,
    once<T>(key: string, check: () => Promise<T>): Promise<T> {
      let pending = shared.get(key) as Promise<T> | undefined;
      if (!pending) {
        pending = check();
        shared.set(key, pending);
      }
      return pending;
    },
    storedInput: options.storedInput ?? (() => undefined),
  };
}

/** One line per check: `✗ llm  Gemini model m: not served ... [llm.model] (stages a, b)`. */
export function formatCheck(check: ReportedCheck): string {
  const mark = check.outcome === 'passed' ? 'ok  ' : check.outcome === 'failed' ? 'FAIL' : 'skip';
  const setting = check.outcome === 'failed' && check.setting ? ` -> change ${check.setting}` : '';
  const stages =
    check.stages.length > 3
      ? ` (${check.stages.slice(0, 3).join(', ')} and ${check.stages.length - 3} more)`
      : ` (${check.stages.join(', ')})`;
  return `${mark} ${check.part}: ${check.subject}: ${check.detail}${setting}${stages}`;
}
