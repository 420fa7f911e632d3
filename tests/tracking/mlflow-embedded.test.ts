import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTracking, syncJournal } from '../../runner/tracking/create-tracking.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { buildFixture, driveSweep, type Fixture, trainSteps } from './sweep-fixture.ts';

const env = { ...process.env, MLFLOW_TRACKING_URI: '' };
let root: string;
let storeDir: string;
let fixture: Fixture;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-embedded-'));
  storeDir = join(root, 'store');
  fixture = await buildFixture(root, 'embedded-study', [
    { name: 'rank-4', rank: 4, steps: trainSteps(4) },
  ]);
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function serversOnStore(): number {
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes('mlflow') && line.includes(storeDir)).length;
}

it('a run shorter than the server start-up leaves its calls journalled, and sync sends them', async () => {
  const tracking = await createTracking({
    kinds: studyPipeline.kinds,
    storeDir,
    env,
    closeTimeoutMs: 300,
  });
  if (!tracking.ok) throw new Error(tracking.error.message);
  expect(tracking.value.target).toBe('embedded');
  await driveSweep(tracking.value.observer, fixture);
  const closed = await tracking.value.close();
  // close() did not sit out the server's start-up (the calls are still journalled, unsent),
  // and left no server behind.
  expect(closed.pending).toBeGreaterThan(10);
  expect(serversOnStore()).toBe(0);

  // `dermatune sync` with no MLFLOW_TRACKING_URI starts the embedded server itself.
  const synced = await syncJournal({ storeDir, env });
  if (!synced.ok) throw new Error(synced.error.message);
  expect(synced.value.entriesSent).toBe(closed.pending);
  expect(synced.value.entriesRejected).toBe(0);
  expect(synced.value.metricsSent).toBeGreaterThan(2 * trainSteps(4));
  expect(serversOnStore()).toBe(0);
  const segments = await readdir(join(storeDir, 'tracking', 'journal', 'embedded', 'segments'));
  expect(segments.filter((n) => n.endsWith('.done'))).toHaveLength(1);
  // The store holds the SQLite database and the served artifacts, never an ./mlruns file store.
  expect((await readdir(join(storeDir, 'tracking'))).sort()).toEqual(
    expect.arrayContaining(['artifacts', 'mlflow.db', 'journal']),
  );
  expect(await readdir(root)).not.toContain('mlruns');
});
