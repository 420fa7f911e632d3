import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, SWEEP_SPEC } from './cli-harness.ts';
import { prepareCallsFile } from './test-pipeline.ts';

/** The manifest of the stored stage with this node id. */
async function manifestOf(store: string, nodeId: string): Promise<{ startedAt: string }> {
  for (const key of await readdir(join(store, 'stages'))) {
    const manifest = JSON.parse(
      await readFile(join(store, 'stages', key, 'manifest.json'), 'utf8'),
    );
    if (manifest.nodeId === nodeId) return manifest;
  }
  throw new Error(`no stored ${nodeId}`);
}

describe('dermatune run', () => {
  it('runs a sweep once, sharing the common stage, and a rerun runs nothing', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    const first = await ws.cli(['run', spec]);
    expect(first.stderr).toContain('scaling: finished. 5 stage(s) ran, 0 cached, 0 failed.');
    expect(first.code).toBe(0);
    const calls = await ws.calls();
    expect(calls.filter((c) => c.startsWith('source '))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('scale '))).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('report '))).toHaveLength(2);

    await ws.resetCalls();
    const second = await ws.cli(['run', spec]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('0 stage(s) ran, 5 cached');
    expect(await ws.calls()).toEqual([]);
  });

  it("runs each stage's set-up (prepare) before the sweep's first stage starts", async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    const prepared = prepareCallsFile(join(ws.dir, 'calls.txt'));
    process.env.TEST_PREPARE_RENDEZVOUS = '2';
    try {
      expect((await ws.cli(['run', spec])).code).toBe(0);
    } finally {
      delete process.env.TEST_PREPARE_RENDEZVOUS;
    }
    const calls = (await readFile(prepared, 'utf8')).trim().split('\n');
    expect(calls.map((line) => line.split(' ')[0]).sort()).toEqual(['2', '3']);
    // Side by side: each set-up was still waiting when the other began.
    expect(calls.map((line) => line.split(' ')[1])).toEqual(['met', 'met']);
    // Both over before the first stage started.
    const source = await manifestOf(ws.store, 'source');
    for (const line of calls) {
      expect(Number(line.split(' ')[2])).toBeLessThanOrEqual(Date.parse(source.startedAt));
    }
    // Stored stages are not about to run: nothing to prepare.
    await rm(prepared);
    expect((await ws.cli(['run', spec])).code).toBe(0);
    expect(existsSync(prepared)).toBe(false);
  });

  it('reruns only what a changed axis value touches, and plan and why say so first', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    expect((await ws.cli(['run', spec])).code).toBe(0);
    await ws.write('spec.yaml', SWEEP_SPEC.replace('model.factor: [2, 3]', 'model.factor: [2, 5]'));

    const plan = await ws.cli(['plan', spec, '--json']);
    const nodes = JSON.parse(plan.stdout).nodes as {
      id: string;
      state: string;
      variants: string[];
    }[];
    expect(nodes.map((n) => [n.id, n.state])).toEqual([
      ['source', 'cached'],
      ['scale[f2]', 'cached'],
      ['report[f2]', 'cached'],
      ['scale[f5]', 'to-run'],
      ['report[f5]', 'to-run'],
    ]);

    await ws.write('spec.yaml', SWEEP_SPEC.replace('items: 4', 'items: 6'));
    const why = await ws.cli(['why', spec, 'source']);
    expect(why.stdout).toContain('will run: its key changed since the last run');
    expect(why.stdout).toContain('params.data.items: 4 -> 6');

    await ws.resetCalls();
    await ws.write(
      'spec.yaml',
      SWEEP_SPEC.replace('model.factor: [2, 3]', 'model.factor: [2, 3, 5]'),
    );
    const run = await ws.cli(['run', spec]);
    expect(run.code).toBe(0);
    expect((await ws.calls()).map((c) => c.split(' ')[0])).toEqual([
      'scale',
      'scale-item',
      'scale-item',
      'scale-item',
      'scale-item',
      'report',
    ]);
  });

  it("--force reruns a variant's own stages on purpose, reusing their memoised items", async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    await ws.cli(['run', spec]);
    await ws.resetCalls();
    const forced = await ws.cli(['run', spec, '--force', 'f2']);
    expect(forced.code).toBe(0);
    // The variant's own stages ran again; its items came from the memo, nothing was recomputed.
    expect((await ws.calls()).map((c) => c.split(' ')[0]).sort()).toEqual(['report', 'scale']);
  });

  it('exits 1 when a stage fails, keeps going on request, and stores nothing for the failure', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write(
      'spec.yaml',
      `${SWEEP_SPEC}  include:\n    - name: broken\n      set:\n        eval.fail: true\n`,
    );
    const run = await ws.cli(['run', spec, '--keep-going']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /FAILED {2}report\[broken\]: asked to fail; see .*failed\/[0-9a-f]{64}\.log \[invalid-input\]/,
    );
    expect(run.stderr).toContain('1 failed');
    // The log is where the message says, not in the staging folder that is gone.
    const logPath = /asked to fail; see (\S+)/.exec(run.stdout)?.[1] ?? '';
    expect(await readFile(logPath, 'utf8')).toContain('the reason is in here');
    const rerun = await ws.cli(['run', spec, '--keep-going']);
    expect(rerun.stderr).toContain('0 stage(s) ran, 5 cached, 1 failed');
  });

  it('refuses up front when a stage kind has no run function yet', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: pending\npending: true\n');
    const run = await ws.cli(['run', spec]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'cannot run: stage kind(s) pending are declared but not implemented yet; nothing was run. (`dermatune plan` shows the graph.)\n',
    );
    expect(await ws.calls()).toEqual([]);
  });

  it('writes outputs and manifests that name their key record', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    await ws.cli(['run', spec]);
    const plan = JSON.parse((await ws.cli(['plan', spec, '--json'])).stdout) as {
      nodes: { id: string; key: string }[];
    };
    const report = plan.nodes.find((n) => n.id === 'report');
    const manifest = JSON.parse(
      await readFile(join(ws.store, 'stages', report?.key ?? '', 'manifest.json'), 'utf8'),
    );
    expect(manifest.record.kind).toBe('report');
    expect(manifest.record.params).toEqual({ eval: { title: 'sum', fail: false } });
    const stored = await readFile(
      join(ws.store, 'stages', report?.key ?? '', 'output', 'report.json'),
    );
    expect(manifest.files).toEqual([
      { path: 'report.json', size: 24, sha256: createHash('sha256').update(stored).digest('hex') },
    ]);
    expect(
      JSON.parse(
        await readFile(
          join(ws.store, 'stages', report?.key ?? '', 'output', 'report.json'),
          'utf8',
        ),
      ),
    ).toEqual({ title: 'sum', sum: 30 });
  });

  it('removes unreferenced outputs with gc and keeps the current ones', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    await ws.cli(['run', spec]);
    await ws.write('spec.yaml', SWEEP_SPEC.replace('[2, 3]', '[2]'));
    await ws.cli(['run', spec]);
    const gc = await ws.cli(['gc']);
    expect(gc.stdout).toBe('removed 2 unreferenced stage output(s); kept 3.\n');
    await ws.resetCalls();
    expect((await ws.cli(['run', spec])).stderr).toContain('0 stage(s) ran, 3 cached');
  });
});
