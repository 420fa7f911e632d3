import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadCheck, specOptions } from '../common.ts';

export const validateCommand: CommandCode = {
  usage: 'dermatune validate <spec.yaml> [--set key=value]...',
  options: specOptions,
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    // No keys: validate needs no hub, model or worker code, only the spec and the schema.
    const checked = await loadCheck(args, ctx);
    if (!checked) return EXIT_USAGE;
    ctx.io.stdout(
      `${args.positionals[0]}: valid. ${checked.variants} variant(s), ${checked.stages} stage(s), ${checked.shared} shared between variants.\n`,
    );
    return EXIT_OK;
  },
};
