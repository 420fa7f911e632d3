import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { trackingForRun } from '../../runner/tracking/run-tracking.ts';
import { experimentRuns, runArtifacts, tag } from '../tracking/mlflow-read.ts';
import { makeReportWorkspace } from './report-workspace.ts';

let server: TrackingServer;

beforeAll(async () => {
  const started = await startTrackingServer({
    storeDir: await mkdtemp(join(tmpdir(), 'dermatune-mlflow-')),
  });
  if (!started.ok) throw new Error(started.error.message);
  server = started.value;
}, 300_000);

afterAll(async () => {
  await server?.stop();
});

describe('dermatune table and MLflow', () => {
  it("attaches the report to the sweep's parent run once, and not again while it is unchanged", async () => {
    const ws = await makeReportWorkspace();
    const cli = (argv: string[]) =>
      ws.cli(argv, { env: { MLFLOW_TRACKING_URI: server.url }, tracking: trackingForRun });
    expect((await cli(['run', ws.spec])).code).toBe(0);
    const first = await cli(['table', ws.spec]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Attached to the sweep's MLflow run \(\d+ files\)/);
    const second = await cli(['table', ws.spec]);
    expect(second.stdout).not.toContain('Attached');

    const runs = await experimentRuns(server.url, 'report-test');
    const parents = runs.filter((r) => tag(r, 'dermatune.role') === 'sweep');
    expect(parents).toHaveLength(1);
    const files = await runArtifacts(server.url, parents[0] as (typeof parents)[number]);
    expect(files.get('report/table.md')).toContain('Model-Data');
    expect(files.get('report/report.html')).toContain('<table');
    // The comparison against the untuned baseline travels with the report.
    expect(JSON.parse(files.get('report/comparison.json') ?? '{}').reference).toEqual({
      variant: 'baseline-untuned',
      label: 'baseline-untuned',
    });
    expect([...files.keys()].filter((p) => p.startsWith('report/plots/')).length).toBeGreaterThan(
      0,
    );
    await ws.cleanup();
  }, 300_000);
});
