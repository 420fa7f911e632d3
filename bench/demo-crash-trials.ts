// Crash trials of the whole demo sweep: SIGKILL `dermatune run experiments/demo.yaml` at random
// moments (default 10 times), let a last run finish, and check that
//   - the Table 1 equals that of an uninterrupted run in a store of its own;
//   - MLflow holds one FINISHED parent run and one FINISHED run per variant (no doubles), and
//     no training step logged twice.
// Usage: node bench/demo-crash-trials.ts [--trials 10] [--keep] [--reuse-reference]
// Takes about two demo runs of time (the reference and the interrupted one). The kills are
// spread over the sweep's progress: each comes after a random 5 s to 2 x (reference time /
// trials), so the ten of them land at different stages of one resumed sweep.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../runner/project-root.ts';
import { syncJournal } from '../runner/tracking/create-tracking.ts';
import { startTrackingServer } from '../runner/tracking/mlflow-server.ts';
import { crashRandom } from '../tests/crash-seed.ts';
import { experimentRuns, metricHistory, tag } from '../tests/tracking/mlflow-read.ts';

const root = projectRoot();
const trials = Number(process.argv[process.argv.indexOf('--trials') + 1] || 10) || 10;
const spec = join(root, 'experiments', 'demo.yaml');
const work = join(root, 'bench', 'out', 'demo-crash');
const reference = join(work, 'reference');
const interrupted = join(work, 'interrupted');
const node = join(root, 'node_modules', '.bin', 'node');
const bin = join(root, 'runner', 'cli', 'bin.js');

function start(args: string[]): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(node, [bin, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'ignore'] });
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function tableOf(store: string): Promise<unknown> {
  const child = spawn(node, [bin, 'table', spec, '--store', store, '--json', '--no-tracking'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const { table } = JSON.parse(out) as { table: { rows: unknown[] } };
  return table.rows;
}

const reuse = process.argv.includes('--reuse-reference') && existsSync(join(reference, 'stages'));
if (!reuse) await rm(work, { recursive: true, force: true });
await rm(interrupted, { recursive: true, force: true });
await mkdir(work, { recursive: true });

// Seconds an uninterrupted demo run takes; measured here unless an earlier reference is reused.
let refSeconds = Number(process.env.DEMO_SECONDS ?? 390);
if (!reuse) {
  console.log(`reference: an uninterrupted demo run into ${reference}`);
  const refStart = Date.now();
  if ((await start(['run', spec, '--store', reference, '--no-tracking']).done) !== 0) {
    throw new Error('the reference run failed');
  }
  refSeconds = (Date.now() - refStart) / 1000;
  console.log(`  ${refSeconds.toFixed(0)} s`);
}

const random = crashRandom('demo-crash-trials');
const kills: number[] = [];
const trialStart = Date.now();
for (let attempt = 1; kills.length < trials && attempt <= 2 * trials; attempt++) {
  const run = start(['run', spec, '--store', interrupted]);
  const after = 5 + random.next() * ((2 * refSeconds) / trials - 5);
  await new Promise((resolve) => setTimeout(resolve, after * 1000));
  const alive = run.child.exitCode === null;
  if (alive) run.child.kill('SIGKILL');
  const code = await run.done;
  if (alive) kills.push(after);
  console.log(
    `run ${attempt}: ${alive ? `SIGKILL after ${after.toFixed(1)} s` : `finished before the kill (exit ${code})`}`,
  );
  if (!alive) break;
}
const last = await start(['run', spec, '--store', interrupted]).done;
console.log(
  `last run: exit ${last}; all runs together ${((Date.now() - trialStart) / 1000).toFixed(0)} s`,
);

const same =
  JSON.stringify(await tableOf(reference)) === JSON.stringify(await tableOf(interrupted));
console.log(`Table 1 equal to the uninterrupted run's: ${same ? 'yes' : 'NO'}`);

// MLflow: flush what killed runs journalled (their locks go stale after ~10 s), then read back.
const server = await startTrackingServer({ storeDir: interrupted });
if (!server.ok) throw new Error(server.error.message);
let problems = 0;
try {
  for (let i = 0; i < 30; i++) {
    const synced = await syncJournal({ storeDir: interrupted, server: server.value, env: {} });
    if (synced.ok && synced.value.busySegments === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const runs = await experimentRuns(server.value.url, 'demo-bacterial-skin');
  const parents = runs.filter((r) => tag(r, 'dermatune.role') === 'sweep');
  const children = runs.filter((r) => tag(r, 'dermatune.role') === 'variant');
  const byVariant = new Map<string, string[]>();
  for (const r of children) {
    byVariant.set(r.info.run_name, [...(byVariant.get(r.info.run_name) ?? []), r.info.status]);
  }
  console.log(
    `MLflow: ${parents.length} parent run(s) [${parents.map((p) => p.info.status).join(', ')}], ${children.length} variant run(s)`,
  );
  if (parents.length !== 1 || parents[0]?.info.status !== 'FINISHED') problems++;
  for (const [variant, statuses] of byVariant) {
    const ok = statuses.length === 1 && statuses[0] === 'FINISHED';
    if (!ok) problems++;
    console.log(
      `  ${variant}: ${statuses.join(', ')}${ok ? '' : '  <- expected one FINISHED run'}`,
    );
  }
  if (byVariant.size !== 10) problems++;
  for (const r of children) {
    const loss = await metricHistory(server.value.url, r.info.run_id, 'train/loss');
    const steps = loss.map((m) => m.step);
    if (new Set(steps).size !== steps.length) {
      problems++;
      console.log(`  ${r.info.run_name}: train/loss has repeated steps`);
    }
  }
} finally {
  await server.value.stop();
}
const killed = kills.length;
console.log(
  `\n${killed} runs killed mid-way (wanted ${trials}); table ${same ? 'identical' : 'DIFFERENT'}; MLflow ${problems === 0 ? 'complete, nothing doubled' : `${problems} problem(s)`}`,
);
if (!process.argv.includes('--keep')) await rm(work, { recursive: true, force: true });
process.exitCode = same && problems === 0 && killed >= trials ? 0 : 1;
