import { CheckpointStore } from '../../checkpoint-store.ts';
import { acquireStoreLock } from '../../store-lock.ts';
import { readAllSweepHistories } from '../../sweep-history.ts';
import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadPlan, openStore, storeOption } from '../common.ts';

export const gcCommand: CommandCode = {
  usage: 'dermatune gc [spec.yaml]... [--dry-run] [--wait]',
  options: {
    store: storeOption,
    'dry-run': { type: 'boolean', description: 'list what would be removed, remove nothing' },
    wait: {
      type: 'boolean',
      description: 'wait for a run holding the store instead of failing',
    },
  },
  positionals: [{ name: 'spec', required: false, many: true }],
  async run(args, ctx) {
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    // The named specs' keys depend on the specs alone, so they may be computed before the lock.
    const keep = new Set<string>();
    for (const spec of args.positionals) {
      const plan = await loadPlan({ positionals: [spec], values: {} }, ctx);
      if (!plan) return EXIT_USAGE;
      for (const node of plan.graph.nodes) keep.add(node.key);
    }
    const lock = await acquireStoreLock(store.lockPath, {
      waitMs: args.values.wait ? 24 * 3600_000 : 0,
      command: 'dermatune gc',
    });
    if (!lock.ok) {
      ctx.io.stderr(`${lock.error.message}\n`);
      return EXIT_USAGE;
    }
    try {
      // Decided under the lock, from the histories as they are now: a run that committed
      // while the specs above were being planned has written its history by then.
      for (const history of await readAllSweepHistories(store)) {
        for (const stages of Object.values(history.variants))
          for (const key of Object.values(stages)) keep.add(key);
      }
      const doomed = (await store.storedKeys()).filter((key) => !keep.has(key));
      // Under the lock nothing is running, so whatever is in staging was left by a killed
      // run or a gc killed halfway through a removal.
      const leftovers = args.values['dry-run'] ? 0 : await store.clearStaging();
      for (const key of doomed) {
        if (!args.values['dry-run']) await store.remove(key);
      }
      // Checkpoints of a stage that is stored (spent) or that no spec refers to any more.
      const checkpoints = new CheckpointStore(store.root);
      const spent: string[] = [];
      for (const key of await checkpoints.keys()) {
        if (!keep.has(key) || (await store.lookup(key)).state === 'present') spent.push(key);
      }
      for (const key of spent) {
        if (!args.values['dry-run']) await checkpoints.remove(key);
      }
      const verb = args.values['dry-run'] ? 'would remove' : 'removed';
      ctx.io.stdout(
        `${verb} ${doomed.length} unreferenced stage output(s); kept ${keep.size}.${leftovers > 0 ? ` Cleared ${leftovers} folder(s) left in staging.` : ''}\n${spent.length > 0 ? `${verb} ${spent.length} spent checkpoint folder(s).\n` : ''}`,
      );
      return EXIT_OK;
    } finally {
      await lock.value.release();
    }
  },
};
