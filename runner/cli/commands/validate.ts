import { type Command, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadPlan, specOptions } from '../common.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a spec against its schema and rules; print every problem with its position',
  usage: 'dermatune validate <spec.yaml> [--set key=value]...',
  options: specOptions,
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx);
    if (!plan) return EXIT_USAGE;
    const shared = plan.graph.nodes.filter((n) => n.variants.length > 1).length;
    ctx.io.stdout(
      `${args.positionals[0]}: valid. ${plan.variants.length} variant(s), ${plan.graph.nodes.length} stage(s), ${shared} shared between variants.\n`,
    );
    return EXIT_OK;
  },
};
