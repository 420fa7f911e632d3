import type { ArtifactStore } from '../../artifact-store.ts';
import { shortKey } from '../../stage-key.ts';
import { type NodeState, nodeStates, readSweepHistory } from '../../sweep-history.ts';
import type { SweepPlan } from '../../sweep-plan.ts';
import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../cli-context.ts';
import { loadPlan, openStore, specOptions } from '../common.ts';
import { forcedKeys, forceOption } from '../force.ts';

export const planCommand: CommandCode = {
  usage: 'dermatune plan <spec.yaml> [--set key=value]... [--only variant]... [--json]',
  options: {
    ...specOptions,
    force: forceOption,
    json: { type: 'boolean', description: 'print {variants, nodes} as JSON' },
  },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx, { fresh: false });
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const forced = forcedKeys(plan, args);
    if (!forced.ok) {
      ctx.io.stderr(`${forced.error}\n`);
      return EXIT_USAGE;
    }
    const states = await nodeStates(
      store,
      plan.graph,
      await readSweepHistory(store, plan.sweepId),
      forced.value,
    );
    const notes = await planNotes(plan);
    if (args.values.json) {
      ctx.io.stdout(`${JSON.stringify({ ...planJson(plan, states), notes }, null, 2)}\n`);
      return EXIT_OK;
    }
    ctx.io.stdout(renderPlan(plan, states, store));
    if (notes.length > 0) {
      ctx.io.stdout(`\n${notes.map((n) => `${n.stage}: ${n.note}`).join('\n')}\n`);
    }
    return EXIT_OK;
  },
};

/** What the kinds say their settings resolve to (shard lists), one line each. */
async function planNotes(plan: SweepPlan): Promise<{ stage: string; note: string }[]> {
  const notes: { stage: string; note: string }[] = [];
  for (const node of plan.graph.nodes) {
    for (const note of (await node.kind.planNotes?.(node.params)) ?? []) {
      notes.push({ stage: node.id, note });
    }
  }
  return notes;
}

export function planJson(plan: SweepPlan, states: Map<string, NodeState>) {
  return {
    spec: plan.specName,
    variants: plan.variants.map((v) => v.name),
    nodes: plan.graph.nodes.map((n) => {
      const state = states.get(n.key);
      return {
        id: n.id,
        kind: n.kind.name,
        key: n.key,
        variants: n.variants,
        state: state?.state ?? 'to-run',
        ...(state?.state === 'stale' ? { changes: state.changes } : {}),
      };
    }),
  };
}

function renderPlan(plan: SweepPlan, states: Map<string, NodeState>, store: ArtifactStore): string {
  const count = (s: string) => [...states.values()].filter((x) => x.state === s).length;
  const lines = [
    `${plan.specName}: ${plan.variants.length} variant(s), ${plan.graph.nodes.length} stage(s): ${count('cached')} cached, ${count('to-run')} to run, ${count('stale')} stale  (store: ${store.root})`,
    '',
  ];
  const rows = plan.graph.nodes.map((node) => {
    const state = states.get(node.key);
    const used =
      node.variants.length === plan.variants.length
        ? `all ${plan.variants.length}`
        : node.variants.join(', ');
    return [node.id, node.kind.name, shortKey(node.key), describeState(state), used];
  });
  const header = ['STAGE', 'KIND', 'KEY', 'STATE', 'VARIANTS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  lines.push(fmt(header), ...rows.map(fmt));
  const stale = plan.graph.nodes.filter((n) => states.get(n.key)?.state === 'stale');
  if (stale.length > 0) {
    lines.push('', 'Stale stages (settings changed since the last run):');
    for (const node of stale) {
      const state = states.get(node.key);
      if (state?.state !== 'stale') continue;
      const what = state.changes.map((c) => c.path).join(', ') || 'its earlier output is gone';
      lines.push(`  ${node.id}: ${what}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function describeState(state: NodeState | undefined): string {
  if (!state) return 'to run';
  switch (state.state) {
    case 'cached':
      return 'cached';
    case 'stale':
      return 'stale';
    case 'to-run':
      return state.why === 'new' ? 'to run' : `to run (${state.why})`;
  }
}
