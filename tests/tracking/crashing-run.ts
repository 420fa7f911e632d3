// A `dermatune run` that dies hard halfway through training: started by the tests as a child
// process, it tracks against the given server and SIGKILLs itself without closing anything.
// Usage: node tests/tracking/crashing-run.ts <fixture-root> <store-dir> <server-url>

import { createTracking } from '../../runner/tracking/create-tracking.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { buildFixture, trainSteps } from './sweep-fixture.ts';

const [root, storeDir, url] = process.argv.slice(2) as [string, string, string];
const fixture = await buildFixture(root, 'crash-study', [
  { name: 'rank-4', rank: 4, steps: trainSteps(4) },
]);
const tracking = await createTracking({
  kinds: studyPipeline.kinds,
  storeDir,
  env: { ...process.env, MLFLOW_TRACKING_URI: '' },
  server: { url },
  metricFlushMs: 50,
});
if (!tracking.ok) throw new Error(tracking.error.message);
const { observer } = tracking.value;
const { sweep } = fixture;
await observer.sweepStarted?.(sweep);
for (const node of sweep.nodes.filter((n) => n.kind !== 'train' && n.kind !== 'evaluate')) {
  const produced = fixture.outputs.get(node.id);
  if (!produced) throw new Error(node.id);
  await observer.nodeFinished?.(node, {
    state: 'cached',
    durationMs: 5,
    outputDir: produced.outputDir,
    summary: { metrics: produced.metrics, artifacts: produced.artifacts },
  });
}
const train = sweep.nodes.find((n) => n.kind === 'train');
if (!train) throw new Error('no train node');
await observer.nodeStarted?.(train);
for (let step = 0; step < 5; step += 1) {
  observer.nodeReport?.(train, {
    type: 'metric',
    name: 'loss',
    value: fixture.lossAt('rank-4', step),
    step,
  });
}
// Long enough for the last batch to be journalled, not necessarily sent.
await new Promise((resolve) => setTimeout(resolve, 400));
process.kill(process.pid, 'SIGKILL');
