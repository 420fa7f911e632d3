import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRayHead, startLocalRayHead } from '../../runner/executors/ray/local-head.ts';
import { type LocalS3, startLocalS3 } from '../../runner/executors/ray/local-s3.ts';
import { type RayJobDetails, RayJobsClient } from '../../runner/executors/ray/ray-jobs-client.ts';
import { S3_JOB_REQUIREMENTS } from '../../runner/executors/ray/s3-storage.ts';
import { listFiles } from '../../runner/executors/ray/shared-storage.ts';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { WORKER_REQUIREMENTS } from '../../stages/model-worker/worker-client.ts';
import { experimentRuns } from '../tracking/mlflow-read.ts';
import {
  type CliProcess,
  copyStoreWithout,
  runCli,
  SPEC,
  startCli as startFixtureCli,
  storedByKind,
} from './ray-fixture.ts';

/**
 * The demo's worker stages through a real local Ray head with S3 storage on a real
 * S3-protocol server (moto, IAM authentication on), both on loopback: the same table and
 * adapter bytes as the local executor, a job lost and resubmitted, a finished job adopted by a
 * restarted runner, up-front refusals of a wrong bucket and a wrong key, and the credentials
 * nowhere but the two environments that need them (the runner's and the cluster's).
 */
const VARIANT = 'qa-6';
const WORKER_KINDS = ['train', 'generate', 'evaluate'];

let work: string;
let s3: LocalS3;
let head: LocalRayHead;
let mlflow: TrackingServer;
let client: RayJobsClient;
let env: Record<string, string>;
const localStore = () => join(work, 'store-local');
const rayStore = () => join(work, 'store-ray');

function s3Args(store: string, prefix: string, bucket = s3.bucket): string[] {
  return [
    ...['--executor', 'ray', '--ray-address', head.address],
    ...['--ray-storage', `s3://${bucket}/${prefix}`],
    ...['--set', `executor.ray.s3.endpoint_url=${s3.endpoint}`],
    ...['--set', 'executor.ray.s3.path_style=true'],
    ...['--set', 'executor.ray.use_gpus=false', '--store', store],
  ];
}

// A test that fails half-way must not leave its runner holding the store for the next one.
const started: CliProcess[] = [];
function startCli(args: string[], env: Record<string, string>): CliProcess {
  const run = startFixtureCli(args, env);
  started.push(run);
  return run;
}
afterEach(() => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
});

async function objectsUnder(prefix: string): Promise<string[]> {
  const reader = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: s3.credentials.AWS_ACCESS_KEY_ID,
      secretAccessKey: s3.credentials.AWS_SECRET_ACCESS_KEY,
    },
  });
  const listed = await reader.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key as string);
}

async function jobsForKey(key: string): Promise<RayJobDetails[]> {
  const jobs = await client.list();
  if (!jobs.ok) throw new Error(jobs.error.message);
  return jobs.value.filter((job) => job.metadata?.dermatune_key === key);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dermatune-ray-s3-'));
  const server = await startLocalS3();
  if (!server.ok) throw new Error(server.error);
  s3 = server.value;
  const started = await startLocalRayHead({
    cpus: 4,
    tempDir: join('/tmp', `dts3-${process.pid}`),
    requirements: [WORKER_REQUIREMENTS, S3_JOB_REQUIREMENTS],
    // The cluster's own environment: the only way the jobs get the key.
    env: s3.credentials,
  });
  if (!started.ok) throw new Error(started.error);
  head = started.value;
  client = new RayJobsClient({ address: head.address });
  const tracking = await startTrackingServer({ storeDir: join(work, 'mlflow') });
  if (!tracking.ok) throw new Error(tracking.error.message);
  mlflow = tracking.value;
  env = { MLFLOW_TRACKING_URI: mlflow.url, DERMATUNE_OFFLINE: '1', ...s3.credentials };
  const local = await runCli(['run', SPEC, '--only', VARIANT, '--store', localStore()], env);
  expect(local.code, local.output).toBe(0);
}, 2_700_000);

afterAll(async () => {
  await head?.stop();
  await s3?.stop();
  await mlflow?.stop();
  await rm(join('/tmp', `dts3-${process.pid}`), { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the ray executor with S3 storage against moto and a local Ray head', {
  timeout: 400_000,
}, () => {
  it('gives the same table and adapter bytes as a local run, and leaves no job objects behind', async () => {
    await copyStoreWithout(localStore(), rayStore(), WORKER_KINDS);
    const run = await runCli(['run', SPEC, '--only', VARIANT, ...s3Args(rayStore(), 'run1')], env);
    expect(run.code, run.output).toBe(0);
    expect(run.output.match(/submitted Ray job/g)).toHaveLength(2);

    const body = (output: string) => output.replace(/^Written to .*$/m, '');
    const tables = await Promise.all(
      [localStore(), rayStore()].map((store) =>
        runCli(['table', SPEC, '--only', VARIANT, '--store', store], env),
      ),
    );
    expect(tables[0]?.code).toBe(0);
    expect(body(tables[1]?.output ?? '')).toBe(body(tables[0]?.output ?? ''));
    expect(tables[0]?.output).toMatch(/QApairs-6/);

    // The adapter came back through the bucket byte for byte. (PEFT's README and config name
    // the base model's folder, which is where the job found it: those differ, as on a shared
    // folder.)
    const [trainKey] = (await storedByKind(rayStore())).get('train') ?? [];
    expect(trainKey).toBeDefined();
    const outputOf = (store: string) => join(store, 'stages', trainKey as string, 'output');
    const files = await listFiles(outputOf(rayStore()));
    expect(files).toEqual(await listFiles(outputOf(localStore())));
    const weights = files.filter((f) => f.endsWith('.safetensors'));
    expect(weights).toContain('adapter/adapter_model.safetensors');
    for (const file of weights) {
      expect(await readFile(join(outputOf(rayStore()), file)), file).toEqual(
        await readFile(join(outputOf(localStore()), file)),
      );
    }
    for (const kind of ['train', 'generate']) {
      for (const key of (await storedByKind(rayStore())).get(kind) ?? []) {
        expect((await jobsForKey(key)).map((j) => j.status)).toEqual(['SUCCEEDED']);
      }
    }
    // Committed: the jobs' prefixes and checkpoints are gone; the inputs stay for reuse.
    expect(await objectsUnder('run1/jobs/')).toEqual([]);
    expect(await objectsUnder('run1/resume/')).toEqual([]);
    expect((await objectsUnder('run1/inputs/')).length).toBeGreaterThan(0);

    // The key reached the runner and the cluster through their environments, and nothing else.
    const secrets = Object.values(s3.credentials);
    const jobs = await client.list();
    if (!jobs.ok) throw new Error(jobs.error.message);
    const places: [string, string][] = [
      ['the run output', run.output],
      ['Ray job submissions (runtime env, entrypoint, metadata)', JSON.stringify(jobs.value)],
      ['MLflow runs', JSON.stringify(await experimentRuns(mlflow.url, 'ray-demo'))],
    ];
    for (const job of jobs.value) {
      const logs = await client.logs(job.submission_id);
      places.push([`the log of ${job.submission_id}`, logs.ok ? logs.value : '']);
    }
    for (const file of await listFiles(rayStore())) {
      places.push([file, await readFile(join(rayStore(), file), 'latin1')]);
    }
    for (const [where, text] of places) {
      for (const secret of secrets) expect(text.includes(secret), where).toBe(false);
    }
  });

  const longTraining = (epochs: number, prefix: string) => [
    ...['run', SPEC, '--only', VARIANT, '--set', `train.epochs=${epochs}`],
    ...s3Args(rayStore(), prefix),
  ];
  const jobId = (line: string) => /submitted Ray job (dermatune-[\w-]+)/.exec(line)?.[1] as string;
  const keyOf = async (id: string) => {
    const details = await client.job(id);
    if (!details.ok) throw new Error(details.error.message);
    return details.value.metadata?.dermatune_key as string;
  };

  it('submits a job stopped from outside again, and the stage still finishes', async () => {
    const run = startCli(longTraining(80, 'run2'), env);
    const id = jobId(await run.waitFor(/submitted Ray job/));
    await run.waitFor(/train \d+\/\d+ step/);
    await promisify(execFile)(
      head.python,
      [head.rayCli, 'job', 'stop', '--address', head.address, '--no-wait', id],
      { env: { ...process.env, ...head.env } },
    );
    expect(await run.done, run.lines.slice(-20).join('\n')).toBe(0);
    expect(run.lines.join('\n')).toMatch(/was lost \(STOPPED.*submitting it again/);
    const key = await keyOf(id);
    expect((await jobsForKey(key)).map((j) => j.status).sort()).toEqual(['STOPPED', 'SUCCEEDED']);
    expect((await storedByKind(rayStore())).get('train')).toContain(key);
    expect(await objectsUnder('run2/jobs/')).toEqual([]);
  });

  it('adopts the objects of a job that finished while its runner was dead', async () => {
    const run = startCli(longTraining(40, 'run3'), env);
    const id = jobId(await run.waitFor(/submitted Ray job/));
    run.child.kill('SIGKILL');
    await run.done;
    // The job goes on without its runner and leaves its output in the bucket.
    for (;;) {
      const details = await client.job(id);
      if (details.ok && ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(details.value.status)) {
        expect(details.value.status).toBe('SUCCEEDED');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect((await objectsUnder(`run3/jobs/${id}/output/`)).length).toBeGreaterThan(0);
    const key = await keyOf(id);

    const resumed = await runCli(longTraining(40, 'run3'), env);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain(`found Ray job ${id} (SUCCEEDED)`);
    expect(resumed.output).not.toMatch(/train: submitted Ray job/);
    expect((await jobsForKey(key)).map((j) => j.submission_id)).toEqual([id]);
    expect((await storedByKind(rayStore())).get('train')).toContain(key);
    expect(await objectsUnder(`run3/jobs/${id}/`)).toEqual([]);
  });

  it('refuses a wrong bucket or a wrong key up front: exit 2, one line, nothing run', async () => {
    const store = join(work, 'store-refused');
    const args = ['run', SPEC, '--only', VARIANT];
    // In a spec file: an s3:// storage is a URL, not a path relative to the spec.
    const spec = join(work, 'wrong-bucket.yaml');
    await writeFile(
      spec,
      `extends: ${SPEC}\nexecutor:\n  kind: ray\n  ray:\n    address: ${head.address}\n    storage: s3://no-such-bucket/x\n    use_gpus: false\n    s3: {endpoint_url: "${s3.endpoint}", path_style: true}\n`,
    );
    const wrongBucket = await runCli(['run', spec, '--only', VARIANT, '--store', store], env);
    expect(wrongBucket.code).toBe(2);
    expect(wrongBucket.output).toContain(
      `the bucket no-such-bucket does not exist at ${s3.endpoint} (executor.ray.storage: s3://no-such-bucket/x)`,
    );
    const wrongKey = await runCli([...args, ...s3Args(store, 'x')], {
      ...env,
      AWS_SECRET_ACCESS_KEY: 'not-the-secret',
    });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.output).toContain(
      `${s3.endpoint} refused the credentials for s3://${s3.bucket}/x (SignatureDoesNotMatch)`,
    );
    for (const refused of [wrongBucket, wrongKey]) {
      expect(refused.output).toContain('nothing was run.');
      expect(refused.output).not.toMatch(/at .*\.ts:\d+/);
      expect(refused.output).not.toContain('not-the-secret');
    }
    // `preflight` proves the same storage before a run is even started, and passes a good one.
    const preflightArgs = ['preflight', spec, '--only', VARIANT, '--store', store, '--no-tracking'];
    const checked = await runCli(preflightArgs, env);
    expect(checked.code, checked.output).toBe(2);
    expect(checked.output).toContain(
      `executor.ray.storage: executor S3 storage: the bucket no-such-bucket does not exist at ${s3.endpoint}`,
    );
    const good = join(work, 'good-bucket.yaml');
    await writeFile(
      good,
      `extends: ${SPEC}\nexecutor:\n  kind: ray\n  ray:\n    address: ${head.address}\n    storage: s3://${s3.bucket}/preflight\n    use_gpus: false\n    s3: {endpoint_url: "${s3.endpoint}", path_style: true}\n`,
    );
    const passed = await runCli(['preflight', good, ...preflightArgs.slice(2)], env);
    expect(passed.output).toMatch(
      /executor.*S3 storage.*listed it, wrote and deleted a probe object/,
    );
  });
});
