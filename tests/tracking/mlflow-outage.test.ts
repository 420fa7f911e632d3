import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTracking, syncJournal } from '../../runner/tracking/create-tracking.ts';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { experimentRuns, metricHistory, type ReadRun, runArtifacts, tag } from './mlflow-read.ts';
import { buildFixture, driveSweep, type Fixture, trainSteps } from './sweep-fixture.ts';

const env = { ...process.env, MLFLOW_TRACKING_URI: '' };
let root: string;
let storeDir: string;
let fixture: Fixture;
const servers: TrackingServer[] = [];

async function startServer(): Promise<TrackingServer> {
  const started = await startTrackingServer({ storeDir });
  if (!started.ok) throw new Error(started.error.message);
  servers.push(started.value);
  return started.value;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-outage-'));
  storeDir = join(root, 'store');
  fixture = await buildFixture(root, 'outage-study', [
    { name: 'rank-4', rank: 4, steps: trainSteps(4) },
    { name: 'rank-8', rank: 8, steps: trainSteps(8) },
  ]);
});

afterAll(async () => {
  for (const server of servers) await server.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function expectComplete(url: string): Promise<ReadRun[]> {
  const runs = await experimentRuns(url, 'outage-study');
  expect(runs.map((r) => r.info.run_name).sort()).toEqual(['outage-study', 'rank-4', 'rank-8']);
  const parent = runs.find((r) => tag(r, 'dermatune.role') === 'sweep') as ReadRun;
  expect(parent.info.status).toBe('FINISHED');
  for (const [name, rank] of [
    ['rank-4', 4],
    ['rank-8', 8],
  ] as const) {
    const child = runs.find((r) => r.info.run_name === name) as ReadRun;
    expect(child.info.status).toBe('FINISHED');
    expect(tag(child, 'mlflow.parentRunId')).toBe(parent.info.run_id);
    const loss = await metricHistory(url, child.info.run_id, 'train/loss');
    // Nothing missing, nothing doubled: each step exactly once.
    expect(loss.map((m) => m.step)).toEqual([...Array(trainSteps(rank)).keys()]);
    expect(await metricHistory(url, child.info.run_id, 'eval/bleu')).toHaveLength(1);
    expect((child.inputs?.dataset_inputs ?? []).length).toBe(2);
    expect((await runArtifacts(url, child)).has('evaluate/predictions.jsonl')).toBe(true);
  }
  return runs;
}

it('survives the server dying mid-run: the journal is replayed, nothing missing or doubled', async () => {
  const first = await startServer();
  const tracking = await createTracking({
    kinds: studyPipeline.kinds,
    storeDir,
    env,
    server: first,
    metricFlushMs: 50,
    closeTimeoutMs: 10_000,
  });
  if (!tracking.ok) throw new Error(tracking.error.message);
  let killedAt = 0;
  await driveSweep(tracking.value.observer, fixture, {
    midTraining: async (variant) => {
      if (variant !== 'rank-4') return;
      // Let the first half of training reach the server, then kill it hard.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const runs = await experimentRuns(first.url, 'outage-study').catch(() => []);
        const child = runs.find((r) => r.info.run_name === 'rank-4');
        if (child && (await metricHistory(first.url, child.info.run_id, 'train/loss')).length > 0)
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(-first.pid, 'SIGKILL');
      killedAt = Date.now();
    },
  });
  const closed = await tracking.value.close();
  expect(killedAt).toBeGreaterThan(0);
  // The run went on; what the dead server missed waits in the journal.
  expect(closed.pending).toBeGreaterThan(0);
  expect(closed.acknowledged).toBeGreaterThan(0);

  // The next run, on the embedded default (it starts its own server), replays the journal
  // automatically before anything of its own.
  const next = await createTracking({
    kinds: studyPipeline.kinds,
    storeDir,
    env,
    closeTimeoutMs: 20_000,
  });
  if (!next.ok) throw new Error(next.error.message);
  const url = await next.value.serverUrl();
  if (!url) throw new Error('the embedded server did not start');
  try {
    const deadline = Date.now() + 30_000;
    // Only the new session's own (still open) segment may remain pending.
    while ((await pendingSegmentCount()) > 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await pendingSegmentCount()).toBe(1);
    const before = await expectComplete(url);

    // Lose every acknowledgement, as if each send's answer had been lost: `sync` must then
    // dedupe against the server instead of doubling anything.
    const segments = join(storeDir, 'tracking', 'journal', 'embedded', 'segments');
    for (const name of await readdir(segments)) {
      if (name.endsWith('.acks.jsonl') || name.endsWith('.done')) await rm(join(segments, name));
    }
    const synced = await syncJournal({ storeDir, env, server: { url } });
    if (!synced.ok) throw new Error(synced.error.message);
    expect(synced.value.metricsSent).toBe(0);
    expect(synced.value.metricsAlreadyPresent).toBeGreaterThan(2 * (trainSteps(4) + trainSteps(8)));
    const after = await expectComplete(url);
    expect(after.map((r) => r.info.run_id).sort()).toEqual(before.map((r) => r.info.run_id).sort());
  } finally {
    const closed = await next.value.close();
    expect(closed.pending).toBe(0);
  }
  // close() stopped the server it started.
  await expect(fetch(`${url}/health`)).rejects.toThrow();
  expect(await pendingSegmentCount()).toBe(0);
});

it('sync reports the server unreachable and keeps the journal', async () => {
  const offline = { ...env, MLFLOW_TRACKING_URI: 'http://127.0.0.1:9' };
  const tracking = await createTracking({
    kinds: studyPipeline.kinds,
    storeDir,
    env: offline,
    closeTimeoutMs: 2_000,
  });
  if (!tracking.ok) throw new Error(tracking.error.message);
  await tracking.value.observer.sweepStarted?.(fixture.sweep);
  // A sweep records nothing until one of its stages really runs; this one reports a metric.
  const node = fixture.sweep.nodes.at(-1);
  if (!node) throw new Error('the fixture sweep has no nodes');
  tracking.value.observer.nodeReport?.(node, {
    type: 'metric',
    name: 'train/loss',
    value: 1,
    step: 0,
  });
  await tracking.value.observer.sweepFinished?.(fixture.sweep, 'killed');
  const closed = await tracking.value.close();
  expect(closed.pending).toBeGreaterThan(0);
  const synced = await syncJournal({ storeDir, env: offline });
  expect(synced.ok).toBe(false);
  if (!synced.ok) expect(synced.error.reason).toBe('server-unreachable');
});

async function pendingSegmentCount(): Promise<number> {
  const segments = join(storeDir, 'tracking', 'journal', 'embedded', 'segments');
  const names = await readdir(segments);
  const done = new Set(names.filter((n) => n.endsWith('.done')).map((n) => n.slice(0, -5)));
  return names.filter((n) => n.endsWith('.jsonl') && !n.endsWith('.acks.jsonl') && !done.has(n))
    .length;
}
