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

/** Resolves `--force` names to node keys; an unknown name is a usage error. */
export function forcedKeys(plan: SweepPlan, args: CommandArgs): Result<Set<string>, string> {
  const keys = new Set<string>();
  for (const name of listOption(args, 'force')) {
    const matches = plan.graph.nodes.filter(
      (n) =>
        n.id === name || n.stageId === name || n.kind.name === name || n.variants.includes(name),
    );
    if (matches.length === 0) {
      return fail(`--force ${name}: no stage, kind or variant of that name in this sweep`);
    }
    // A variant name forces only that variant's own stages, not the shared data chain.
    for (const node of matches) {
      if (plan.variants.some((v) => v.name === name) && node.variants.length > 1) continue;
      keys.add(node.key);
    }
  }
  return ok(keys);
}
