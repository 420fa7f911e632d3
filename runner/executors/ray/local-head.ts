import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePythonEnv, runLogged } from '../../python-env.ts';
import { lockResource } from '../../resource-lock.ts';
import { fail, ok, type Result } from '../../result.ts';
import { sleep } from '../../retry-policy.ts';
import { freeLoopbackPort } from '../../tracking/mlflow-server.ts';
import { RayJobsClient } from './ray-jobs-client.ts';

/**
 * A real single-node Ray cluster on this machine (`ray start --head`, Ray pinned in
 * `requirements.txt`), for the tests and the benchmark: the same Jobs API a cluster's head
 * serves. It runs from the project's venv, so jobs find the worker's pinned stack installed
 * and their runtime environment only checks it.
 *
 * `ray stop` ends every Ray process of this user on the machine; the tests run one head at a
 * time for that reason.
 */
/** How long a head waits for another one on this machine to stop. */
const HEAD_WAIT_S = 45 * 60;

export const RAY_REQUIREMENTS = join(dirname(fileURLToPath(import.meta.url)), 'requirements.txt');

export interface LocalRayHead {
  /** The dashboard's HTTP address (the Jobs API). */
  address: string;
  /** The venv's `ray` CLI script, for `ray job stop` and friends: run it with `python`. */
  rayCli: string;
  /**
   * The venv's interpreter. The CLI is run through it rather than by its shebang, which names
   * the interpreter of whichever checkout first installed it (a venv shared across checkouts).
   */
  python: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface LocalRayHeadOptions {
  /** Logical CPUs the head offers to jobs (Ray's own accounting, not a hard limit). */
  cpus: number;
  /** Ray's session folder; keep it short (Ray's socket paths must fit 107 bytes). */
  tempDir: string;
  /** Requirement files the jobs need besides Ray (the worker's). */
  requirements: readonly string[];
  /**
   * The cluster's own environment, which every job inherits: how a real cluster hands jobs
   * their storage credentials (node env, instance roles), never through a runtime env.
   */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export async function startLocalRayHead(
  options: LocalRayHeadOptions,
): Promise<Result<LocalRayHead, string>> {
  const log = options.log ?? (() => {});
  const env = await ensurePythonEnv([...options.requirements, RAY_REQUIREMENTS], log);
  if (!env.ok) return fail(env.error.message);
  // `ray stop` ends every Ray process of this user, so a second head would kill the first's
  // jobs: heads on one machine take turns (parallel test files, a bench beside a test).
  const releaseMachine = await lockResource(join(tmpdir(), 'dermatune-local-ray-head'), {
    retries: { retries: HEAD_WAIT_S, minTimeout: 1000, maxTimeout: 1000 },
    stale: 60_000,
  });
  const rayCli = join(env.value.binDir, 'ray');
  await mkdir(options.tempDir, { recursive: true });
  const gcsPort = await freeLoopbackPort();
  const dashboardPort = await freeLoopbackPort();
  const rayEnv: Record<string, string> = {
    RAY_USAGE_STATS_ENABLED: '0',
    // Jobs started by this head find the venv's packages; the runtime env only checks pins.
    PATH: `${env.value.binDir}:${process.env.PATH ?? ''}`,
    ...options.env,
  };
  const python = env.value.python;
  const started = await runLogged(
    python,
    [
      rayCli,
      'start',
      '--head',
      `--port=${gcsPort}`,
      '--node-ip-address=127.0.0.1',
      '--dashboard-host=127.0.0.1',
      `--dashboard-port=${dashboardPort}`,
      `--num-cpus=${options.cpus}`,
      '--num-gpus=0',
      // The object store is unused by jobs that only run a process; keep it at Ray's minimum.
      '--object-store-memory=78643200',
      `--temp-dir=${options.tempDir}`,
      '--disable-usage-stats',
    ],
    log,
    rayEnv,
  );
  if (!started.ok) {
    await releaseMachine().catch(() => {});
    return fail(`ray start --head failed: ${started.error}`);
  }
  const address = `http://127.0.0.1:${dashboardPort}`;
  const stop = async () => {
    await runLogged(python, [rayCli, 'stop', '--force'], log, rayEnv);
    await releaseMachine().catch(() => {});
  };
  // The dashboard answers a moment after `ray start` returns; the node registers after that.
  const client = new RayJobsClient({ address, retry: { maxAttempts: 1 }, timeoutMs: 5000 });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const nodes = await client.nodes();
    if (nodes.ok && nodes.value.some((n) => n.state === 'ALIVE')) {
      return ok({ address, rayCli, python, env: rayEnv, stop });
    }
    await sleep(500);
  }
  await stop();
  return fail(`the local Ray head at ${address} did not come up within 120 s`);
}
