import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from './artifact-store.ts';
import { sha256Hex } from './canonical-json.ts';
import type { StageGraph, StageNode } from './stage-graph.ts';
import { diffRecords } from './stage-key.ts';
import type { SweepPlan } from './sweep-plan.ts';

/**
 * The keys each variant's stages had at the last run of a sweep. It is what lets `plan` say
 * a stage is stale (and `why` say what changed), and what `gc` keeps.
 */
export interface SweepHistory {
  sweepId: string;
  updatedAt: string;
  /** variant name -> stage id -> key */
  variants: Record<string, Record<string, string>>;
}

export type NodeState =
  | { state: 'cached' }
  | { state: 'to-run'; why: 'new' | 'forced' | 'corrupt' }
  | {
      state: 'stale';
      previousKey: string;
      changes: { path: string; before: unknown; after: unknown }[];
    };

function historyPath(store: ArtifactStore, sweepId: string): string {
  return join(store.root, 'sweeps', `${sha256Hex(sweepId).slice(0, 16)}.json`);
}

export async function readSweepHistory(
  store: ArtifactStore,
  sweepId: string,
): Promise<SweepHistory | undefined> {
  try {
    return JSON.parse(await readFile(historyPath(store, sweepId), 'utf8')) as SweepHistory;
  } catch {
    return undefined;
  }
}

export async function readAllSweepHistories(store: ArtifactStore): Promise<SweepHistory[]> {
  const dir = join(store.root, 'sweeps');
  const names = await readdir(dir).catch(() => [] as string[]);
  const histories: SweepHistory[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      histories.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as SweepHistory);
    } catch {
      // A torn history file only costs the stale/why explanations, never outputs.
    }
  }
  return histories;
}

/** Records the plan's keys, keeping variants this run did not touch (`--only`). */
export async function writeSweepHistory(store: ArtifactStore, plan: SweepPlan): Promise<void> {
  const previous = await readSweepHistory(store, plan.sweepId);
  // Keep variants this run skipped (--only), forget those the sweep no longer has.
  const variants = Object.fromEntries(
    Object.entries(previous?.variants ?? {}).filter(([name]) =>
      plan.allVariantNames.includes(name),
    ),
  );
  const byKey = new Map(plan.graph.nodes.map((n) => [n.key as string, n]));
  for (const variant of plan.graph.variants) {
    const stages: Record<string, string> = {};
    for (const key of variant.nodeKeys) {
      const node = byKey.get(key);
      if (node) stages[node.stageId] = key;
    }
    variants[variant.name] = stages;
  }
  const history: SweepHistory = {
    sweepId: plan.sweepId,
    updatedAt: new Date().toISOString(),
    variants,
  };
  const path = historyPath(store, plan.sweepId);
  await mkdir(join(store.root, 'sweeps'), { recursive: true });
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(history, null, 2));
  await rename(temp, path);
}

/** cached / to run / stale-and-why for every node of a plan, without running anything. */
export async function nodeStates(
  store: ArtifactStore,
  graph: StageGraph,
  history: SweepHistory | undefined,
  forced: ReadonlySet<string> = new Set(),
): Promise<Map<string, NodeState>> {
  const states = new Map<string, NodeState>();
  // One directory listing instead of a failed open per node: most nodes of a big plan are new.
  const stored = new Set(await store.storedKeys());
  for (const node of graph.nodes) {
    if (forced.has(node.key)) {
      states.set(node.key, { state: 'to-run', why: 'forced' });
      continue;
    }
    const entry = stored.has(node.key)
      ? await store.lookup(node.key)
      : { state: 'absent' as const };
    if (entry.state === 'present') {
      states.set(node.key, { state: 'cached' });
      continue;
    }
    if (entry.state === 'corrupt') {
      states.set(node.key, { state: 'to-run', why: 'corrupt' });
      continue;
    }
    const previousKey = previousKeyOf(node, history);
    if (previousKey) {
      const before = await store.lookup(previousKey);
      const changes =
        before.state === 'present' ? diffRecords(before.manifest.record, node.record) : [];
      states.set(node.key, { state: 'stale', previousKey, changes });
    } else {
      states.set(node.key, { state: 'to-run', why: 'new' });
    }
  }
  return states;
}

function previousKeyOf(node: StageNode, history: SweepHistory | undefined): string | undefined {
  for (const variant of node.variants) {
    const key = history?.variants[variant]?.[node.stageId];
    if (key && key !== node.key) return key;
  }
  return undefined;
}
