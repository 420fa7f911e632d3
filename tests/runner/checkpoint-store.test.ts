import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../runner/checkpoint-store.ts';
import { buildStageGraph } from '../../runner/stage-graph.ts';
import { checkpointPipeline } from '../model-worker/checkpoint-pipeline.ts';
import { makeWorkspace, SWEEP_SPEC } from './cli-harness.ts';

/** A checkpoint folder as the model worker leaves it: its progress file and some state. */
async function plant(store: string, key: string, done: number, total: number): Promise<void> {
  const dir = join(store, 'resume', key);
  await mkdir(join(dir, 'train', 'step-00000003'), { recursive: true });
  await writeFile(join(dir, 'train', 'step-00000003', 'meta.json'), '{}');
  await writeFile(
    join(dir, 'state.json'),
    JSON.stringify({ job_type: 'train', done, total, unit: 'step', written_at: 1_796_000_000 }),
  );
}

async function planKeys(
  ws: Awaited<ReturnType<typeof makeWorkspace>>,
  spec: string,
): Promise<Record<string, string>> {
  const plan = await ws.cli(['plan', spec, '--json']);
  const nodes = (JSON.parse(plan.stdout) as { nodes: { id: string; key: string }[] }).nodes;
  return Object.fromEntries(nodes.map((n) => [n.id, n.key]));
}

describe('checkpoints in the store', () => {
  it('status names the stages with a checkpoint and its step; gc removes spent and unreferenced ones only', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    expect((await ws.cli(['run', spec])).code).toBe(0);
    const stored = await planKeys(ws, spec);
    // A third variant that has not run: its scale stage is referenced by the spec, not stored.
    const wider = await ws.write('wider.yaml', SWEEP_SPEC.replace('[2, 3]', '[2, 3, 4]'));
    const planned = await planKeys(ws, wider);
    const pending = planned['scale[f4]'] ?? '';
    expect(pending).toMatch(/^[0-9a-f]{64}$/);
    const spent = stored['scale[f2]'] ?? '';
    const orphan = 'e'.repeat(64);
    await plant(ws.store, pending, 3, 10);
    await plant(ws.store, spent, 3, 10);
    await plant(ws.store, orphan, 3, 10);

    const status = await ws.cli(['status', wider]);
    expect(status.stdout).toContain('checkpoint: scale[f4] at step 3/10');
    // A stored stage's leftover is not something a rerun resumes from.
    expect(status.stdout).not.toContain('scale[f2] at step');
    const json = JSON.parse((await ws.cli(['status', wider, '--json'])).stdout) as {
      checkpoints: { node: string; key: string; done: number; total: number }[];
    };
    expect(json.checkpoints.map((c) => [c.node, c.key, c.done, c.total])).toEqual([
      ['scale[f4]', pending, 3, 10],
    ]);

    const dry = await ws.cli(['gc', wider, '--dry-run']);
    expect(dry.stdout).toContain('would remove 2 spent checkpoint folder(s)');
    expect((await new CheckpointStore(ws.store).keys()).sort()).toEqual(
      [pending, spent, orphan].sort(),
    );
    const gc = await ws.cli(['gc', wider]);
    expect(gc.stdout).toContain('removed 2 spent checkpoint folder(s)');
    expect(await new CheckpointStore(ws.store).keys()).toEqual([pending]);
    expect(await readdir(join(ws.store, 'resume'))).toEqual([pending]);
  });

  it('keeps train.checkpoint_every out of the train key, which other train settings change', async () => {
    const spec = (train: Record<string, unknown>) => ({
      name: 'k',
      model: { base: 'tiny-smolvlm-standin' },
      train: { epochs: 2, ...train },
    });
    const keysOf = async (train: Record<string, unknown>) => {
      const graph = await buildStageGraph(checkpointPipeline, [{ name: 'v', spec: spec(train) }]);
      if (!graph.ok) throw new Error(JSON.stringify(graph.error));
      const node = graph.value.nodes.find((n) => n.stageId === 'train');
      return { key: node?.key, params: node?.params as { train: Record<string, unknown> } };
    };
    const every4 = await keysOf({ checkpoint_every: 4 });
    const every9 = await keysOf({ checkpoint_every: 9 });
    expect(every9.key).toBe(every4.key);
    // The stage still sees its interval.
    expect(every9.params.train.checkpoint_every).toBe(9);
    expect((await keysOf({ checkpoint_every: 4, epochs: 3 })).key).not.toBe(every4.key);
  });
});
