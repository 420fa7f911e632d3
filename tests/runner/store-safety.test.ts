import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { acquireStoreLock } from '../../runner/store-lock.ts';
import { makeWorkspace, SWEEP_SPEC } from './cli-harness.ts';

async function planned(ws: Awaited<ReturnType<typeof makeWorkspace>>, spec: string) {
  const plan = await ws.cli(['plan', spec, '--json']);
  return JSON.parse(plan.stdout) as { nodes: { id: string; key: string; state: string }[] };
}

describe('the store under misuse', () => {
  it("refuses a second run on a busy store with a clear message, and takes over a dead owner's lock", async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    const store = new ArtifactStore(ws.store);
    const held = await acquireStoreLock(store.lockPath, { command: 'dermatune run other.yaml' });
    if (!held.ok) throw new Error('could not take the lock');
    const refused = await ws.cli(['run', spec]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^the store is in use by another dermatune process \(pid \d+ on .+, since .+: dermatune run other\.yaml\); wait for it to finish or pass --wait\n$/,
    );
    expect(await ws.calls()).toEqual([]);
    await held.value.release();

    // A lock left by a process that no longer exists (killed with SIGKILL) is stale.
    await writeFile(
      store.lockPath,
      JSON.stringify({
        pid: 2 ** 22 + 17,
        host: (await import('node:os')).hostname(),
        command: 'x',
        since: 'then',
      }),
    );
    expect((await ws.cli(['run', spec])).code).toBe(0);
  });

  it('treats a truncated or manifest-less entry as a miss, keeps it aside and runs the stage again', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    await ws.cli(['run', spec]);
    const { nodes } = await planned(ws, spec);
    const report = nodes.find((n) => n.id === 'report');
    if (!report) throw new Error('no report node');
    await writeFile(join(ws.store, 'stages', report.key, 'output', 'report.json'), '{"tru');
    expect((await planned(ws, spec)).nodes.find((n) => n.id === 'report')?.state).toBe('to-run');
    await ws.resetCalls();
    const rerun = await ws.cli(['run', spec]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(
      /warning report: stored output was corrupt \(report.json is 5 bytes, expected 24\); moved to .*corrupt/,
    );
    expect((await ws.calls()).map((c) => c.split(' ')[0])).toEqual(['report']);
    expect((await new ArtifactStore(ws.store).lookup(report.key)).state).toBe('present');
  });

  it('emits one JSON object per event with --json', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    const run = await ws.cli(['run', spec, '--json']);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; node?: string; state?: string });
    expect(events[0]?.event).toBe('sweep-started');
    expect(events.at(-1)).toMatchObject({ event: 'sweep-finished', status: 'finished' });
    expect(events.filter((e) => e.event === 'node-finished').map((e) => [e.node, e.state])).toEqual(
      [
        ['source', 'done'],
        ['scale', 'done'],
        ['report', 'done'],
      ],
    );
  });
});
