import { acquireStoreLock } from '../../store-lock.ts';
import { type CommandCode, EXIT_OK, EXIT_STAGE_FAILED, EXIT_USAGE } from '../cli-context.ts';
import { openStore, storeOption } from '../common.ts';
import { terminalSafe } from '../terminal-text.ts';

/**
 * `dermatune verify`: reads every stored output and compares it with the sizes and sha256
 * hashes its manifest recorded. Damaged entries are moved to corrupt/ (never deleted), so the
 * next run recomputes them. Slow on a big store by design; runs only check what they read.
 */
export const verifyCommand: CommandCode = {
  usage: 'dermatune verify [--store dir] [--dry-run] [--wait]',
  options: {
    store: storeOption,
    'dry-run': { type: 'boolean', description: 'report damaged entries, move nothing' },
    wait: { type: 'boolean', description: 'wait for a run holding the store instead of failing' },
  },
  positionals: [],
  async run(args, ctx) {
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const lock = await acquireStoreLock(store.lockPath, {
      waitMs: args.values.wait ? 24 * 3600_000 : 0,
      command: 'dermatune verify',
    });
    if (!lock.ok) {
      ctx.io.stderr(`${lock.error.message}\n`);
      return EXIT_USAGE;
    }
    try {
      const keys = await store.storedKeys();
      let damaged = 0;
      for (const key of keys) {
        const entry = await store.lookup(key);
        const why =
          entry.state === 'present'
            ? await store.verifyContent(entry)
            : entry.state === 'corrupt'
              ? entry.why
              : undefined;
        if (why === undefined) continue;
        damaged++;
        const name = entry.state === 'present' ? `${entry.manifest.nodeId} ` : '';
        if (args.values['dry-run']) {
          ctx.io.stdout(`damaged: ${terminalSafe(name)}${key}: ${terminalSafe(why)}\n`);
        } else {
          const where = await store.quarantine(key);
          ctx.io.stdout(
            `damaged: ${terminalSafe(name)}${key}: ${terminalSafe(why)}; moved to ${terminalSafe(where)}\n`,
          );
        }
      }
      ctx.io.stdout(
        `${keys.length} stored output(s) checked, ${damaged} damaged${damaged > 0 && !args.values['dry-run'] ? ' (the next run recomputes them)' : ''}.\n`,
      );
      return damaged > 0 ? EXIT_STAGE_FAILED : EXIT_OK;
    } finally {
      await lock.value.release();
    }
  },
};
