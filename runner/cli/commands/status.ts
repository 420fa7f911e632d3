import { CheckpointStore } from '../../checkpoint-store.ts';
import { inspectStoreLock } from '../../store-lock.ts';
import { nodeStates, readSweepHistory } from '../../sweep-history.ts';
import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadPlan, openStore, specOptions } from '../common.ts';

export const statusCommand: CommandCode = {
  usage: 'dermatune status <spec.yaml> [--set key=value]... [--json]',
  options: { ...specOptions, json: { type: 'boolean', description: 'print as JSON' } },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx, { fresh: false });
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const states = await nodeStates(store, plan.graph, await readSweepHistory(store, plan.sweepId));
    const variants = plan.graph.variants.map((variant) => {
      const done = variant.nodeKeys.filter((k) => states.get(k)?.state === 'cached').length;
      return { name: variant.name, done, total: variant.nodeKeys.length };
    });
    // Stages part-way through: what a rerun resumes from instead of starting again.
    const resumable = new CheckpointStore(store.root);
    const checkpoints = [];
    for (const node of plan.graph.nodes) {
      if (states.get(node.key)?.state === 'cached') continue;
      const state = await resumable.read(node.key);
      if (state) checkpoints.push({ node: node.id, ...state });
    }
    const lock = await inspectStoreLock(store.lockPath);
    const holder = lock.state === 'held' ? lock.owner : undefined;
    if (args.values.json) {
      const { token: _token, ...running } = holder ?? { token: '' };
      ctx.io.stdout(
        `${JSON.stringify({ spec: plan.specName, variants, checkpoints, running: holder ? running : null, lock: lock.state }, null, 2)}\n`,
      );
      return EXIT_OK;
    }
    const width = Math.max(...variants.map((v) => v.name.length));
    const lines = variants.map((v) => {
      const mark = v.done === v.total ? 'complete' : v.done === 0 ? 'not started' : 'partial';
      return `  ${v.name.padEnd(width)}  ${String(v.done).padStart(2)}/${v.total} stages stored  ${mark}`;
    });
    for (const c of checkpoints) {
      lines.push(
        `  checkpoint: ${c.node} at ${c.unit} ${c.done}/${c.total} (${c.writtenAt.toISOString()}); a rerun resumes there`,
      );
    }
    ctx.io.stdout(
      `${plan.specName} (store: ${store.root})\n${lines.join('\n')}\n${lockLine(lock)}`,
    );
    return EXIT_OK;
  },
};

function lockLine(lock: Awaited<ReturnType<typeof inspectStoreLock>>): string {
  switch (lock.state) {
    case 'free':
      return '';
    case 'held':
      return `\nA run is in progress: pid ${lock.owner.pid} since ${lock.owner.since} (${lock.owner.command})\n`;
    case 'stale':
      return `\nNo run is in progress: the lock left by pid ${lock.owner.pid} (${lock.owner.command}, since ${lock.owner.since}) is stale, that process is gone; the next run takes it over.\n`;
    case 'unreadable':
      return '\nThe store lock is unreadable; if no dermatune process uses this store, remove it.\n';
  }
}
