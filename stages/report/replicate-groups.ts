import type { VariantResult } from './sweep-results.ts';

/**
 * Replicates of a variant (`sweep.replicates`) become one Table 1 row under the variant's
 * name: its metrics are the means over the replicates that were evaluated, and the spread
 * says how far they scatter. Replicates that share one evaluate stage (nothing they run reads
 * the replicated setting) count once: n is the number of distinct evaluations.
 */
export interface ReplicateSpread {
  /** Distinct evaluated replicates. */
  n: number;
  /** Sample standard deviation (n - 1) over the replicates, by tracked metric name. */
  sd: Record<string, number>;
  /** The evaluated replicates (variant names), in sweep order. */
  members: VariantResult[];
  /** Replicates defined but not evaluated yet. */
  missing: string[];
}

export interface GroupedResults {
  /** One result per Table 1 row, in sweep order. */
  results: VariantResult[];
  /** By row variant name, for the rows that stand for replicates. */
  spreads: Map<string, ReplicateSpread>;
}

export function groupReplicates(results: readonly VariantResult[]): GroupedResults {
  const groups = new Map<string, VariantResult[]>();
  const out: VariantResult[] = [];
  for (const result of results) {
    if (result.replicateOf === undefined) {
      out.push(result);
      continue;
    }
    const members = groups.get(result.replicateOf);
    if (members) members.push(result);
    else {
      groups.set(result.replicateOf, [result]);
      // Placeholder keeps the row at the place of its first replicate.
      out.push(result);
    }
  }
  const spreads = new Map<string, ReplicateSpread>();
  const merged = out.map((result) => {
    const name = result.replicateOf;
    if (name === undefined) return result;
    const members = groups.get(name) ?? [];
    const evaluated = distinctEvaluations(members.filter((m) => m.state.state === 'evaluated'));
    const spread: ReplicateSpread = {
      n: evaluated.length,
      sd: {},
      members: evaluated,
      missing: members.filter((m) => m.state.state !== 'evaluated').map((m) => m.variant),
    };
    spreads.set(name, spread);
    const template = evaluated[0] ?? members[0] ?? result;
    const metrics: Record<string, number> = {};
    if (evaluated.length > 0) {
      const names = Object.keys(evaluated[0]?.metrics ?? {}).filter((metric) =>
        evaluated.every((m) => typeof m.metrics[metric] === 'number'),
      );
      for (const metric of names) {
        const values = evaluated.map((m) => m.metrics[metric] as number);
        metrics[metric] = mean(values);
        if (values.length > 1) spread.sd[metric] = sampleSd(values);
      }
    }
    const replicateKeys = new Set(Object.keys(result.replicate ?? {}));
    const { replicateOf: _of, replicate: _replicate, ...rest } = template;
    return {
      ...rest,
      variant: name,
      axes: Object.fromEntries(Object.entries(result.axes).filter(([k]) => !replicateKeys.has(k))),
      metrics,
      // The row counts as evaluated once any replicate is; the notes say how many are missing.
      state: evaluated.length > 0 ? { state: 'evaluated' as const } : template.state,
    };
  });
  return { results: merged, spreads };
}

function distinctEvaluations(members: readonly VariantResult[]): VariantResult[] {
  const seen = new Set<string>();
  return members.filter((m) => {
    const key = m.evaluate?.key ?? m.variant;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleSd(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}
