import { shortKey } from '../../stage-key.ts';
import { nodeStates, readSweepHistory } from '../../sweep-history.ts';
import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadPlan, openStore, specOptions } from '../common.ts';

export const whyCommand: CommandCode = {
  usage: 'dermatune why <spec.yaml> <stage> [--set key=value]...',
  options: specOptions,
  positionals: [
    { name: 'spec', required: true },
    { name: 'stage', required: true },
  ],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx, { fresh: false });
    if (!plan) return EXIT_USAGE;
    const wanted = args.positionals[1] ?? '';
    const nodes = plan.graph.nodes.filter((n) => n.id === wanted || n.stageId === wanted);
    if (nodes.length === 0) {
      const ids = plan.graph.nodes.map((n) => n.id).join(', ');
      ctx.io.stderr(`no stage "${wanted}" in this sweep; stages: ${ids}\n`);
      return EXIT_USAGE;
    }
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const states = await nodeStates(store, plan.graph, await readSweepHistory(store, plan.sweepId));
    const out: string[] = [];
    for (const node of nodes) {
      const state = states.get(node.key);
      out.push(
        `${node.id} (${node.kind.name}, key ${shortKey(node.key)}, used by ${node.variants.join(', ')})`,
      );
      switch (state?.state) {
        case 'cached':
          out.push('  stored: nothing that decides its output has changed; it will not run.');
          break;
        case 'stale':
          out.push(
            `  will run: its key changed since the last run (was ${shortKey(state.previousKey)}).`,
          );
          if (state.changes.length === 0)
            out.push(
              '  the earlier output is no longer in the store, so the change cannot be shown.',
            );
          for (const change of state.changes) {
            out.push(
              `    ${change.path}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`,
            );
          }
          break;
        default:
          out.push(
            state?.why === 'corrupt'
              ? '  will run: its stored output failed verification.'
              : '  will run: it has never run with these settings in this store.',
          );
      }
    }
    ctx.io.stdout(`${out.join('\n')}\n`);
    return EXIT_OK;
  },
};
