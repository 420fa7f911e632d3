import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORK_SERVER_SWITCH } from '../../stages/model-worker/fork-server.ts';
import { defaultTrainSettings } from '../../stages/model-worker/spec-defaults.ts';
import { runWorker, type WorkerRunOptions } from '../../stages/model-worker/worker-client.ts';
import type { TrainJob, TrainMetric } from '../../stages/model-worker/worker-job.ts';
import { TRAIN_OUTPUT } from '../../stages/train/contract.ts';
import { childPids, childPidsRunning, endsWithin } from './process-tree.ts';
import { makeWorkerFixture, type WorkerFixture, workerReady } from './worker-fixture.ts';

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
const PARENT = join(process.cwd(), 'tests', 'model-worker', 'fixtures', 'forked-worker-parent.ts');

let fixture: WorkerFixture;
let python: string;
let models: string;

beforeAll(async () => {
  ({ python, modelsDir: models } = await workerReady());
  fixture = await makeWorkerFixture();
}, 600_000);

/** `steps` optimizer steps; the long jobs (1000) are stopped long before they end. */
function trainJob(name: string, steps: number): TrainJob {
  return {
    type: 'train',
    outputs: TRAIN_OUTPUT,
    output_dir: join(fixture.dir, name),
    models_dir: models,
    model: { base: 'tiny-smolvlm-standin' },
    data: { train: fixture.trainFile, image_root: fixture.imageRoot },
    supervision: 'qa_caption',
    seed: 7,
    train: defaultTrainSettings({
      batch_size: 2,
      grad_accum: 2,
      learning_rate: 0.01,
      image_size: 384,
      epochs: steps,
      max_steps: steps,
    }),
  };
}

async function train(name: string, options: Partial<WorkerRunOptions> = {}) {
  const logFile = join(fixture.dir, `${name}.log`);
  const losses: number[] = [];
  const result = await runWorker(trainJob(name, 3), {
    python,
    logFile,
    ...options,
    onEvent: (e) => {
      if (e.event === 'metric') losses.push((e as TrainMetric).loss ?? Number.NaN);
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  const adapter = await readFile(join(fixture.dir, name, TRAIN_OUTPUT.adapterWeights));
  return { losses, adapter, log: await readFile(logFile, 'utf8') };
}

const serverPid = (log: string) => Number(/forked by the fork server \(pid (\d+)\)/.exec(log)?.[1]);

describe.runIf(process.platform === 'linux')('the model worker fork server', () => {
  it('runs jobs as forks of one server, with the same results as a worker on its own', {
    timeout: 300_000,
  }, async () => {
    const alone = await train('alone', { env: { [FORK_SERVER_SWITCH]: '0' } });
    const first = await train('forked-1');
    const second = await train('forked-2');

    expect(alone.log).toContain(`started on its own (no fork server: ${FORK_SERVER_SWITCH}=0)`);
    expect(serverPid(first.log)).toBeGreaterThan(0);
    expect(serverPid(second.log)).toBe(serverPid(first.log));
    expect(first.losses).toHaveLength(3);
    expect(first.losses).toEqual(alone.losses);
    expect(second.losses).toEqual(alone.losses);
    expect(first.adapter.equals(alone.adapter)).toBe(true);
    // The job's library output still reaches the job's own log, not the server's.
    expect(first.log).toMatch(/Loading weights|adapter|lora/i);
  });

  it('passes an abort on as SIGTERM, and a launcher killed outright takes its job with it', {
    timeout: 300_000,
  }, async () => {
    const controller = new AbortController();
    const logFile = join(fixture.dir, 'cancelled.log');
    const cancelled = await runWorker(trainJob('cancelled', 1000), {
      python,
      logFile,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.event === 'metric') controller.abort();
      },
    });
    expect(cancelled.ok).toBe(false);
    if (!cancelled.ok) expect(cancelled.error.reason).toBe('cancelled');

    // The launcher killed outright, as the client's SIGKILL after its grace period would: the
    // job never hears a SIGTERM, only its connection closing.
    let job: number | undefined;
    let seen = false;
    let launcherKilled: () => void = () => {};
    const launcherGone = new Promise<void>((resolve) => {
      launcherKilled = resolve;
    });
    const killed = runWorker(trainJob('killed', 1000), {
      python,
      logFile: join(fixture.dir, 'killed.log'),
      onEvent: async (e) => {
        if (e.event !== 'started' || seen) return;
        seen = true;
        const log = await readFile(join(fixture.dir, 'killed.log'), 'utf8');
        [job] = await childPids(serverPid(log));
        for (const pid of await childPidsRunning(process.pid, 'dermatune_forkserver.launch')) {
          process.kill(pid, 'SIGKILL');
        }
        launcherKilled();
      },
    });
    await launcherGone;
    // The job shares the launcher's stdout, so the client sees the end only once the job is gone.
    expect(await endsWithin(job as number, 10_000)).toBe(true);
    const result = await killed;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('crashed');
  });

  it('does not start a job aborted while its fork server was still starting', {
    timeout: 300_000,
  }, async () => {
    const controller = new AbortController();
    // An environment no server has yet: this job's server starts now, for seconds.
    const pending = runWorker(trainJob('aborted-early', 1000), {
      python,
      logFile: join(fixture.dir, 'aborted-early.log'),
      signal: controller.signal,
      env: { DERMATUNE_TEST_SERVER: 'aborted-early' },
    });
    controller.abort();
    const result = await pending;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('cancelled');
    await expect(readFile(join(fixture.dir, 'aborted-early', TRAIN_OUTPUT.job))).rejects.toThrow();
  });

  it('ends the job and the server when the runner is killed with SIGKILL', {
    timeout: 300_000,
  }, async () => {
    const jobFile = join(fixture.dir, 'orphan-job.json');
    await writeFile(jobFile, JSON.stringify(trainJob('orphan', 1000)));
    const parent = spawn(NODE, [PARENT, python, join(fixture.dir, 'orphan.log'), jobFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (d) => {
      out += d;
    });
    await new Promise((resolve) => parent.on('exit', resolve));
    const [server, job] = out.trim().split(' ').map(Number);
    expect(server).toBeGreaterThan(0);
    expect(job).toBeGreaterThan(0);
    expect(await endsWithin(job as number, 10_000)).toBe(true);
    expect(await endsWithin(server as number, 10_000)).toBe(true);
    // A training of 1000 steps killed at its first one has written no adapter.
    await expect(
      readFile(join(fixture.dir, 'orphan', TRAIN_OUTPUT.adapterWeights)),
    ).rejects.toThrow();
  });
});
