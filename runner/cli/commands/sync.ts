import { type CommandCode, EXIT_OK, EXIT_STAGE_FAILED, EXIT_USAGE } from '../cli-context.ts';
import { openStore, storeOption } from '../common.ts';

export const syncCommand: CommandCode = {
  usage: 'dermatune sync [--store dir]',
  options: { store: storeOption },
  positionals: [],
  async run(args, ctx) {
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const { syncJournal } = await import('../../tracking/create-tracking.ts');
    const result = await syncJournal({
      storeDir: store.root,
      env: ctx.io.env,
      log: (line) => ctx.io.stderr(`${line}\n`),
    });
    if (result.ok) {
      ctx.io.stdout(`sync: ${JSON.stringify(result.value)}\n`);
      return EXIT_OK;
    }
    ctx.io.stderr(`sync: ${result.error.message}\n`);
    return result.error.reason === 'unsupported-tracking-uri' ? EXIT_USAGE : EXIT_STAGE_FAILED;
  },
};
