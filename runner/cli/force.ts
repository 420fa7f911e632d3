import { fail, ok, type Result } from '../result.ts';
import type { SweepPlan } from '../sweep-plan.ts';
import type { CommandArgs, OptionSpec } from './cli-context.ts';
import { listOption } from './common.ts';

export const forceOption: OptionSpec = {
  type: 'string',
  multiple: true,
  description:
    'run again on purpose: a stage id (train), a node id (train[qa-500]), a kind, or a variant name',
};

/**
 * Resolves `--force` names to node keys; an unknown name is a usage error. Names are matched
 * against the whole sweep (node ids as `plan` shows them without `--only`, which variants share
 * a stage), then narrowed to the nodes this run has, so `--only` never changes their meaning.
 */
export function forcedKeys(plan: SweepPlan, args: CommandArgs): Result<Set<string>, string> {
  const keys = new Set<string>();
  const selected = new Set(plan.graph.nodes.map((n) => n.key as string));
  const variantNames = new Set(plan.allVariantNames);
  for (const name of listOption(args, 'force')) {
    const matches = plan.sweepGraph.nodes.filter(
      (n) =>
        n.id === name ||
        n.stageId === name ||
        n.kind.name === name ||
        n.variants.includes(name) ||
        n.variants.some((v) => `${n.stageId}[${v}]` === name),
    );
    if (matches.length === 0) {
      return fail(`--force ${name}: no stage, kind or variant of that name in this sweep`);
    }
    const inRun = matches.filter((n) => selected.has(n.key));
    if (inRun.length === 0) {
      return fail(`--force ${name}: none of its stages is in the variants selected with --only`);
    }
    // A variant name forces only that variant's own stages, not the shared data chain.
    for (const node of inRun) {
      if (variantNames.has(name) && node.variants.length > 1) continue;
      keys.add(node.key);
    }
  }
  return ok(keys);
}
