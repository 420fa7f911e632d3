import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRayHead, startLocalRayHead } from '../../runner/executors/ray/local-head.ts';
import { type RayJobDetails, RayJobsClient } from '../../runner/executors/ray/ray-jobs-client.ts';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { WORKER_REQUIREMENTS } from '../../stages/model-worker/worker-client.ts';
import {
  experimentRuns,
  metricHistory,
  params,
  type ReadRun,
  tag,
} from '../tracking/mlflow-read.ts';
import {
  copyStoreWithout,
  jsonEvents,
  runCli,
  SPEC,
  startCli,
  storedByKind,
} from './ray-fixture.ts';

/**
 * The demo's worker stages through a real local Ray head (`ray start --head`, Ray pinned):
 * the same table and MLflow runs as a local run, a job stopped from outside submitted again
 * (or failing clearly when so configured), and a runner killed mid-job that adopts the job on
 * the next run instead of paying for it twice.
 */
const VARIANTS = 'qa-6,baseline-untuned';
const WORKER_KINDS = ['train', 'generate', 'evaluate'];

let work: string;
let head: LocalRayHead;
let mlflow: TrackingServer;
let client: RayJobsClient;
let env: Record<string, string>;
const localStore = () => join(work, 'store-local');
const rayStore = () => join(work, 'store-ray');
const shared = () => join(work, 'shared');

function rayArgs(store: string): string[] {
  return [
    ...['--executor', 'ray', '--ray-address', head.address, '--ray-storage', shared()],
    // The local head has no GPU: the GPU stages run on its CPUs.
    ...['--set', 'executor.ray.use_gpus=false', '--store', store],
  ];
}

async function jobsForKey(key: string): Promise<RayJobDetails[]> {
  const jobs = await client.list();
  if (!jobs.ok) throw new Error(jobs.error.message);
  return jobs.value.filter((job) => job.metadata?.dermatune_key === key);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dermatune-ray-'));
  const started = await startLocalRayHead({
    cpus: 4,
    // Short: Ray's socket paths must fit in 107 bytes.
    tempDir: join('/tmp', `dtray-${process.pid}`),
    requirements: [WORKER_REQUIREMENTS],
  });
  if (!started.ok) throw new Error(started.error);
  head = started.value;
  client = new RayJobsClient({ address: head.address });
  const server = await startTrackingServer({ storeDir: join(work, 'mlflow') });
  if (!server.ok) throw new Error(server.error.message);
  mlflow = server.value;
  env = { MLFLOW_TRACKING_URI: mlflow.url, DERMATUNE_OFFLINE: '1' };
  // The data chain and the worker stages, all here: the reference the Ray run must match.
  const local = await runCli(['run', SPEC, '--only', VARIANTS, '--store', localStore()], env);
  expect(local.code, local.output).toBe(0);
}, 2_700_000);

afterAll(async () => {
  await head?.stop();
  await mlflow?.stop();
  await rm(join('/tmp', `dtray-${process.pid}`), { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

// Each test runs real jobs (a runtime env, a training, generations) on a loaded 2-core machine.
describe('the ray executor against a local Ray head', { timeout: 400_000 }, () => {
  it('runs the worker stages as Ray jobs with the same table and MLflow runs as a local run', async () => {
    await copyStoreWithout(localStore(), rayStore(), WORKER_KINDS);
    const run = await runCli(['run', SPEC, '--only', VARIANTS, ...rayArgs(rayStore())], env);
    expect(run.code, run.output).toBe(0);
    // Only the worker stages went to the cluster: one train and two generations.
    expect(run.output.match(/submitted Ray job/g)).toHaveLength(3);
    const stored = await storedByKind(rayStore());
    for (const kind of ['train', 'generate']) {
      for (const key of stored.get(kind) ?? []) {
        const jobs = await jobsForKey(key);
        expect(jobs.map((j) => j.status)).toEqual(['SUCCEEDED']);
      }
    }
    // The shared copies of the job folders are gone once the outputs are in the store.
    expect(await readdir(join(shared(), 'jobs'))).toEqual([]);

    const tableLocal = await runCli(
      ['table', SPEC, '--only', VARIANTS, '--store', localStore()],
      env,
    );
    const tableRay = await runCli(['table', SPEC, '--only', VARIANTS, '--store', rayStore()], env);
    expect(tableLocal.code).toBe(0);
    // The same table, but for the line naming where each store wrote it.
    const body = (output: string) => output.replace(/^Written to .*$/m, '');
    expect(body(tableRay.output)).toBe(body(tableLocal.output));
    expect(tableLocal.output).toMatch(/QApairs-6/);

    // Two sweeps in one experiment: each variant's run has the same metrics and histories.
    const runs = await experimentRuns(mlflow.url, 'ray-demo');
    const variantRuns = (name: string) =>
      runs.filter((r) => r.info.run_name === name && r.info.status === 'FINISHED');
    for (const variant of VARIANTS.split(',')) {
      // Which run went through Ray is a tag, not a param: params compare one to one.
      const local = variantRuns(variant).find((r) => tag(r, 'dermatune.executor') === 'local');
      const remote = variantRuns(variant).find((r) =>
        tag(r, 'dermatune.executor')?.startsWith(`ray at ${head.address}`),
      );
      expect(local, `a FINISHED local run of ${variant}`).toBeDefined();
      expect(remote, `a FINISHED Ray run of ${variant}`).toBeDefined();
      const pair = [local, remote] as [ReadRun, ReadRun];
      const metrics = pair.map((r) =>
        Object.fromEntries((r.data.metrics ?? []).map((m) => [m.key, m.value])),
      );
      const keys = (m: Record<string, number>) =>
        Object.keys(m)
          .filter((k) => !/seconds|per_second/.test(k))
          .sort();
      expect(keys(metrics[1] ?? {})).toEqual(keys(metrics[0] ?? {}));
      const evalKeys = keys(metrics[0] ?? {}).filter((k) => k.startsWith('eval/'));
      // Without scores the comparison below would check nothing.
      expect(evalKeys).toContain('eval/bleu');
      for (const key of evalKeys) {
        expect(metrics[1]?.[key], key).toBe(metrics[0]?.[key]);
      }
      expect(params(pair[1])).toEqual(params(pair[0]));
      if (variant === 'qa-6') {
        const losses = await Promise.all(
          pair.map((r) => metricHistory(mlflow.url, r.info.run_id, 'train/loss')),
        );
        expect(losses[0]?.length).toBeGreaterThan(0);
        expect(losses[1]?.map((p) => [p.step, p.value])).toEqual(
          losses[0]?.map((p) => [p.step, p.value]),
        );
      }
      expect(tag(pair[0], 'mlflow.runName')).toBe(variant);
    }
  });

  // A longer training (its own key, so it runs afresh) gives a stop something to interrupt:
  // the demo's own takes seconds.
  const longTraining = (epochs: number) => [
    ...['run', SPEC, '--only', 'qa-6', '--set', `train.epochs=${epochs}`],
    ...rayArgs(rayStore()),
  ];
  const jobId = (line: string) => /submitted Ray job (dermatune-[\w-]+)/.exec(line)?.[1] as string;
  const keyOf = async (id: string) => {
    const details = await client.job(id);
    if (!details.ok) throw new Error(details.error.message);
    return details.value.metadata?.dermatune_key as string;
  };
  const rayJobStop = (id: string) =>
    promisify(execFile)(
      head.python,
      [head.rayCli, 'job', 'stop', '--address', head.address, '--no-wait', id],
      {
        env: { ...process.env, ...head.env },
      },
    );

  it('submits a job stopped from outside (ray job stop) again, and the stage still finishes', {
    // Two trainings and a generation as Ray jobs: 255 s alone with 200 epochs, 291 s with 500;
    // the ceiling leaves room for a full `npm test` running another file beside it.
    timeout: 900_000,
  }, async () => {
    // Long enough to be stopped mid-training; the resubmitted job trains it all again.
    const run = startCli([...longTraining(200), '--json'], env);
    const id = jobId(await run.waitFor(/submitted Ray job/));
    // Once it trains, stop it the way an operator would.
    await run.waitFor(/"event":"node-metric".*train\/loss/);
    await rayJobStop(id);
    expect(await run.done, run.lines.slice(-20).join('\n')).toBe(0);
    expect(run.lines.join('\n')).toMatch(
      /was lost \(STOPPED.*submitting it again \(resubmission 1 of 1\)/,
    );
    const key = await keyOf(id);
    const jobs = await jobsForKey(key);
    expect(jobs.map((j) => j.status).sort()).toEqual(['STOPPED', 'SUCCEEDED']);
    const finished = jsonEvents(run.lines).find(
      (e) => e.event === 'node-finished' && String(e.node).startsWith('train'),
    );
    expect(finished?.state).toBe('done');
    expect((await storedByKind(rayStore())).get('train')).toContain(key);
  });

  it('fails the stage clearly when resubmission is off (executor.ray.max_resubmits: 0)', async () => {
    const run = startCli([...longTraining(5000), '--set', 'executor.ray.max_resubmits=0'], env);
    const id = jobId(await run.waitFor(/submitted Ray job/));
    await run.waitFor(/train \d+\/\d+ step/);
    await rayJobStop(id);
    expect(await run.done, run.lines.slice(-20).join('\n')).toBe(1);
    const output = run.lines.join('\n');
    expect(output).toMatch(
      /FAILED {2}train.*ended without a result \(STOPPED.*not submitted again after 0 resubmission\(s\) \(executor\.ray\.max_resubmits: 0\)/,
    );
    expect(output).not.toMatch(/at .*\.ts:\d+/);
    expect((await storedByKind(rayStore())).get('train')).not.toContain(await keyOf(id));
    expect(await jobsForKey(await keyOf(id))).toHaveLength(1);
  });

  it('resumes after the runner is killed mid-job: the job is adopted, not submitted again', async () => {
    const run = startCli(longTraining(62), env);
    const id = jobId(await run.waitFor(/submitted Ray job/));
    run.child.kill('SIGKILL');
    await run.done;
    const key = await keyOf(id);

    const resumed = await runCli(longTraining(62), env);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain(`found Ray job ${id}`);
    expect(resumed.output).not.toMatch(/train: submitted Ray job/);
    expect((await jobsForKey(key)).map((j) => j.submission_id)).toEqual([id]);
    expect((await storedByKind(rayStore())).get('train')).toContain(key);
  });

  it('stops its running jobs on Ctrl-C and exits 130', async () => {
    const run = startCli(longTraining(5001), env);
    const id = jobId(await run.waitFor(/submitted Ray job/));
    await run.waitFor(/train \d+\/\d+ step/);
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    const details = await client.job(id);
    expect(details.ok && details.value.status).toBe('STOPPED');
    expect((await storedByKind(rayStore())).get('train')).not.toContain(await keyOf(id));
  });
});
