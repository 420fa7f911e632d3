// The demo sweep's worker stages (train, generate) on a local Ray head against the local
// executor, in the same run: per-stage overhead of going through Ray (jobs one at a time),
// and the speed-up of running several CPU workers at once (this machine has no GPU).
//
// Usage: node bench/ray-executor.ts [--spec experiments/demo.yaml] [--cpus 4] [--keep DIR]
// The data chain runs once, locally; each measured run starts from a copy of that store
// without the worker stages' entries. Figures go to stdout and bench/out/ray-executor.json.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../runner/artifact-store.ts';
import { startLocalRayHead } from '../runner/executors/ray/local-head.ts';
import { WORKER_REQUIREMENTS } from '../stages/model-worker/worker-client.ts';
import { copyStoreWithout } from '../tests/ray/ray-fixture.ts';

const { values } = parseArgs({
  options: {
    spec: { type: 'string', default: 'experiments/demo.yaml' },
    cpus: { type: 'string', default: '4' },
    keep: { type: 'string' },
  },
});
const spec = values.spec as string;
const cpus = Number(values.cpus);
const WORKER_KINDS = new Set(['train', 'generate']);
const DOWNSTREAM = new Set(['evaluate']);

const work = values.keep ?? (await mkdtemp(join(tmpdir(), 'dermatune-bench-ray-')));
const shared = join(work, 'shared');
const base = join(work, 'store-data');
const env = { ...process.env, CI: 'true', DERMATUNE_OFFLINE: '1' };

function cli(args: string[]): Promise<{ code: number | null; seconds: number; output: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['runner/cli/bin.js', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('exit', (code) =>
      resolve({ code, seconds: (performance.now() - started) / 1000, output }),
    );
  });
}

interface StageTime {
  node: string;
  kind: string;
  seconds: number;
}

async function stageTimes(store: string): Promise<StageTime[]> {
  const artifacts = new ArtifactStore(store);
  const times: StageTime[] = [];
  for (const key of await artifacts.storedKeys()) {
    const entry = await artifacts.lookup(key);
    if (entry.state !== 'present' || !WORKER_KINDS.has(entry.manifest.record.kind)) continue;
    times.push({
      node: entry.manifest.nodeId,
      kind: entry.manifest.record.kind,
      seconds: entry.manifest.durationMs / 1000,
    });
  }
  return times.sort((a, b) => a.node.localeCompare(b.node));
}

/** The data chain's entries alone: the worker stages and their evaluations run again. */
async function freshCopy(name: string): Promise<string> {
  const store = join(work, name);
  await rm(store, { recursive: true, force: true });
  await copyStoreWithout(base, store, [...WORKER_KINDS, ...DOWNSTREAM]);
  return store;
}

// Before the head starts there is nothing to stop.
function abort(message: string): never {
  console.error(message);
  process.exit(1);
}

// Thrown, not exited: the finally below must still stop the Ray head and clear its folders.
function fail(message: string): never {
  throw new BenchFailure(message);
}

class BenchFailure extends Error {}

console.log(`spec ${spec}; work folder ${work}`);
const dataRun = await cli(['run', spec, '--store', base, '--no-tracking']);
if (dataRun.code !== 0) abort(`the local reference run failed:\n${dataRun.output.slice(-3000)}`);
console.log(`data chain and local reference run (cached if kept): ${dataRun.seconds.toFixed(0)} s`);

const head = await startLocalRayHead({
  cpus,
  tempDir: join('/tmp', `dtbench-${process.pid}`),
  requirements: [WORKER_REQUIREMENTS],
});
if (!head.ok) abort(head.error);
// The local head has no GPU: GPU stages ask it for CPUs only.
const rayArgs = [
  ...['--executor', 'ray', '--ray-address', head.value.address, '--ray-storage', shared],
  ...['--set', 'executor.ray.use_gpus=false'],
];

try {
  // Warm the cluster's runtime environment once (a real cluster keeps it between sweeps too).
  const warm = await freshCopy('store-warm');
  const warmRun = await cli([
    'run',
    spec,
    '--store',
    warm,
    '--no-tracking',
    '--only',
    'baseline-untuned',
    ...rayArgs,
  ]);
  if (warmRun.code !== 0) fail(`warm-up on Ray failed:\n${warmRun.output.slice(-3000)}`);
  console.log(`first Ray job incl. runtime env set-up: ${warmRun.seconds.toFixed(1)} s`);

  const runs: { name: string; args: string[] }[] = [
    { name: 'local, one worker at a time (--gpus 1)', args: ['--gpus', '1'] },
    {
      name: 'ray, one job at a time (max_jobs 1)',
      args: [...rayArgs, '--set', 'executor.ray.max_jobs=1'],
    },
    {
      name: `ray, concurrent CPU jobs (${Math.floor(cpus / 2)} x 2 CPUs)`,
      args: rayArgs,
    },
  ];
  const results: { name: string; wall: number; stages: StageTime[] }[] = [];
  for (const [index, run] of runs.entries()) {
    const store = await freshCopy(`store-${index}`);
    const done = await cli(['run', spec, '--store', store, '--no-tracking', ...run.args]);
    if (done.code !== 0) fail(`${run.name} failed:\n${done.output.slice(-3000)}`);
    results.push({ name: run.name, wall: done.seconds, stages: await stageTimes(store) });
    console.log(`${run.name}: ${done.seconds.toFixed(1)} s wall`);
  }

  const [local, serial, concurrent] = results as [
    (typeof results)[0],
    (typeof results)[0],
    (typeof results)[0],
  ];
  console.log('\nper stage (seconds): local | ray one at a time | overhead');
  const overheads: number[] = [];
  for (const stage of local.stages) {
    const remote = serial.stages.find((s) => s.node === stage.node);
    if (!remote) continue;
    const overhead = remote.seconds - stage.seconds;
    overheads.push(overhead);
    console.log(
      `  ${stage.node.padEnd(28)} ${stage.seconds.toFixed(1).padStart(7)} ${remote.seconds.toFixed(1).padStart(9)} ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1).padStart(6)}`,
    );
  }
  const sorted = [...overheads].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const mean = overheads.reduce((a, b) => a + b, 0) / Math.max(1, overheads.length);
  console.log(
    `\noverhead per stage through Ray: median ${median.toFixed(1)} s, mean ${mean.toFixed(1)} s over ${overheads.length} stages`,
  );
  console.log(
    `worker stages, wall: local ${local.wall.toFixed(1)} s | ray one at a time ${serial.wall.toFixed(1)} s | ray concurrent ${concurrent.wall.toFixed(1)} s (speed-up ${(local.wall / concurrent.wall).toFixed(2)}x over local on ${cpus} logical CPUs)`,
  );
  await mkdir('bench/out', { recursive: true });
  await writeFile(
    'bench/out/ray-executor.json',
    JSON.stringify({ spec, cpus, warmup_seconds: warmRun.seconds, results, median, mean }, null, 2),
  );
} catch (error) {
  if (!(error instanceof BenchFailure)) throw error;
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await head.value.stop();
  await rm(join('/tmp', `dtbench-${process.pid}`), { recursive: true, force: true });
  if (values.keep === undefined) await rm(work, { recursive: true, force: true });
}
