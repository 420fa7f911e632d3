// Tracking benchmark: how long the embedded MLflow server takes to start (fresh store and
// existing store), and how fast a sweep's step metrics flow from observer hooks to the server.
// Usage: node bench/tracking.ts [--steps 2000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePythonEnv } from '../runner/python-env.ts';
import type { NodeInfo, SweepInfo } from '../runner/run-events.ts';
import { createTracking } from '../runner/tracking/create-tracking.ts';
import { MLFLOW_REQUIREMENTS, startTrackingServer } from '../runner/tracking/mlflow-server.ts';

const stepsArg = process.argv.indexOf('--steps');
const STEPS = stepsArg > 0 ? Number(process.argv[stepsArg + 1]) : 2000;
const root = await mkdtemp(join(tmpdir(), 'dermatune-bench-tracking-'));
const storeDir = join(root, 'store');
const result: Record<string, number | string> = { steps: STEPS };

try {
  let t = Date.now();
  const env = await ensurePythonEnv([MLFLOW_REQUIREMENTS]);
  if (!env.ok) throw new Error(env.error.message);
  result.ensure_env_s = (Date.now() - t) / 1000;

  t = Date.now();
  const fresh = await startTrackingServer({ storeDir });
  if (!fresh.ok) throw new Error(fresh.error.message);
  result.start_fresh_store_s = (Date.now() - t) / 1000;
  t = Date.now();
  await fresh.value.stop();
  result.stop_s = (Date.now() - t) / 1000;

  t = Date.now();
  const server = await startTrackingServer({ storeDir });
  if (!server.ok) throw new Error(server.error.message);
  result.start_existing_store_s = (Date.now() - t) / 1000;

  const train: NodeInfo = { id: 'train', kind: 'train', key: 'k-train', variants: ['v'] };
  const sweep: SweepInfo = {
    specName: 'bench-tracking',
    specPath: join(root, 'missing.yaml'),
    sweepId: 'bench',
    storeDir,
    nodes: [train],
    variants: [
      { name: 'v', axes: {}, spec: { train: { lora: { rank: 8 } } }, nodeKeys: [train.key] },
    ],
  };
  const tracking = await createTracking({
    storeDir,
    env: { ...process.env, MLFLOW_TRACKING_URI: '' },
    server: server.value,
  });
  if (!tracking.ok) throw new Error(tracking.error.message);
  const { observer } = tracking.value;
  t = Date.now();
  await observer.sweepStarted?.(sweep);
  for (let step = 0; step < STEPS; step += 1) {
    observer.nodeReport?.(train, { type: 'metric', name: 'loss', value: 1 / (step + 1), step });
    observer.nodeReport?.(train, { type: 'metric', name: 'grad_norm', value: step % 7, step });
  }
  const hooks = (Date.now() - t) / 1000;
  await observer.nodeFinished?.(train, {
    state: 'done',
    durationMs: 1,
    outputDir: root,
    summary: {},
  });
  await observer.sweepFinished?.(sweep, 'finished');
  const closed = await tracking.value.close();
  result.metrics_logged = 2 * STEPS;
  result.hooks_s = hooks;
  result.hooks_to_all_acknowledged_s = (Date.now() - t) / 1000;
  result.pending_after_close = closed.pending;
  await server.value.stop();
} finally {
  await rm(root, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
