import { modelTrainingViewUrl } from '../../tracking/experiment-kind.ts';
import { type CommandCode, EXIT_OK, EXIT_STAGE_FAILED, EXIT_USAGE } from '../cli-context.ts';
import { openStore, storeOption } from '../common.ts';

export const uiCommand: CommandCode = {
  usage: 'dermatune ui [--port 5000] [--host 127.0.0.1] [--store dir]',
  options: {
    store: storeOption,
    port: { type: 'string', description: 'port to serve on (default 5000)' },
    host: { type: 'string', description: 'address to bind (default 127.0.0.1)' },
  },
  positionals: [],
  async run(args, ctx) {
    const port = args.values.port === undefined ? 5000 : Number(args.values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      ctx.io.stderr(`--port must be a port number (got ${JSON.stringify(args.values.port)})\n`);
      return EXIT_USAGE;
    }
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const { startUiServer } = await import('../../tracking/mlflow-server.ts');
    const ui = await startUiServer({
      storeDir: store.root,
      port,
      host: args.values.host as string | undefined,
      log: (line) => ctx.io.stderr(`${line}\n`),
    });
    if (!ui.ok) {
      ctx.io.stderr(`cannot start the MLflow UI: ${ui.error.message}\n`);
      return EXIT_STAGE_FAILED;
    }
    ctx.io.stdout(
      `MLflow UI for ${store.root}: ${modelTrainingViewUrl(ui.value.url)}  (Ctrl-C stops it)\n`,
    );
    const code = await ui.value.exited;
    return code === 0 || code === 130 ? EXIT_OK : EXIT_STAGE_FAILED;
  },
};
