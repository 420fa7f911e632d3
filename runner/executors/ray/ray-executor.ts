import { randomBytes } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { fail, ok, type Result } from '../../result.ts';
import { sleep } from '../../retry-policy.ts';
import type { StageNode } from '../../stage-graph.ts';
import type {
  StageContext,
  StageFailure,
  StageInputOutput,
  StageResources,
  StageSummary,
} from '../../stage-kind.ts';
import type { RemoteJob, RemoteOutcome, RemoteStage } from '../remote-stage.ts';
import type { StageExecutor } from '../stage-executor.ts';
import { packageFolder } from './code-package.ts';
import type { JobPaths, JobStorage } from './job-storage.ts';
import {
  type RayJobDetails,
  type RayJobSubmission,
  RayJobsClient,
  type RayNode,
  TERMINAL_STATUSES,
} from './ray-jobs-client.ts';
import { S3Storage, type S3StorageSettings } from './s3-storage.ts';
import { SharedStorage } from './shared-storage.ts';

/**
 * Runs the stages that declare a GPU or heavy CPU need, and have a remote form, as Ray jobs:
 * their inputs go to the job storage (a shared folder or a bucket: `JobStorage`), their code and pinned requirements travel in the job's
 * runtime environment, their log streams back as progress and metrics, and their output is
 * copied into the local staging folder that the scheduler commits like any other.
 *
 * A job is found again by its stage key (Ray keeps it in the job's metadata), so a runner that
 * died mid-sweep attaches to its running jobs and adopts finished ones instead of submitting
 * them again. A job that ends without a verdict (its node lost, stopped by someone else) is
 * submitted again up to `maxResubmits` times.
 */
export interface RayExecutorSettings {
  /** The dashboard's HTTP address (`http://head:8265`). */
  address: string;
  /** A folder every node and this machine see at the same path, or an S3 bucket. */
  storage: StorageSetting;
  /** Whether GPU stages ask Ray for GPUs (false: a CPU cluster, as in the tests). */
  useGpus: boolean;
  /** How often a job that ended without a verdict is submitted again. */
  maxResubmits: number;
  /** At most this many jobs at once; default: as many as the cluster's nodes can hold. */
  maxJobs?: number;
  /** Stages at or above this many CPUs count as heavy and go to the cluster. */
  heavyCpus: number;
  headers?: Record<string, string>;
}

export type StorageSetting =
  | { kind: 'shared'; root: string }
  | ({ kind: 's3' } & S3StorageSettings);

export type RayExecutorFailure = {
  reason: 'unreachable' | 'no-capacity' | 'storage';
  message: string;
};

export function openJobStorage(
  setting: StorageSetting,
  env: Record<string, string | undefined> = process.env,
): JobStorage {
  return setting.kind === 'shared' ? new SharedStorage(setting.root) : new S3Storage(setting, env);
}

const META_KEY = 'dermatune_key';

export class RayExecutor implements StageExecutor {
  readonly name: string;
  readonly slots: number;
  readonly #client: RayJobsClient;
  readonly #storage: JobStorage;
  readonly #settings: RayExecutorSettings;
  readonly #jobDirs = new Map<string, string>();

  private constructor(
    settings: RayExecutorSettings,
    client: RayJobsClient,
    storage: JobStorage,
    slots: number,
  ) {
    this.#settings = settings;
    this.#client = client;
    this.#storage = storage;
    this.name = `ray at ${settings.address}`;
    this.slots = slots;
  }

  /**
   * Connects, reads the cluster's nodes and checks that each remote stage fits on one of them,
   * before anything runs: a sweep refuses up front rather than leaving a job pending forever.
   * The storage is proved first (a wrong bucket, refused credentials), with one read and write.
   */
  static async connect(
    settings: RayExecutorSettings,
    nodes: readonly StageNode[],
  ): Promise<Result<RayExecutor, RayExecutorFailure>> {
    const storage = openJobStorage(settings.storage);
    const usable = await storage.check();
    if (!usable.ok) return fail({ reason: 'storage', message: usable.error });
    const client = new RayJobsClient({ address: settings.address, headers: settings.headers });
    const version = await client.version();
    if (!version.ok) {
      return fail({
        reason: 'unreachable',
        message: `the Ray cluster at ${settings.address} does not answer: ${version.error.message}`,
      });
    }
    const cluster = await client.nodes();
    if (!cluster.ok) {
      return fail({ reason: 'unreachable', message: `Ray nodes: ${cluster.error.message}` });
    }
    const alive = cluster.value.filter((n) => n.state === 'ALIVE');
    let slots = 0;
    for (const node of nodes.filter((n) => takesNode(settings, n))) {
      const demand = demandOf(settings, node.resources);
      const fits = capacity(alive, demand);
      if (fits === 0) {
        const wanted = Object.entries(demand)
          .map(([name, amount]) => `${amount} ${name}${amount === 1 ? '' : 's'}`)
          .join(' and ');
        return fail({
          reason: 'no-capacity',
          message: `no node of the Ray cluster at ${settings.address} has ${wanted}, which stage ${node.id} needs${demand.GPU ? '; on a cluster without GPUs set executor.ray.use_gpus: false' : ''}`,
        });
      }
      slots = Math.max(slots, fits);
    }
    const limit = Math.min(settings.maxJobs ?? Number.POSITIVE_INFINITY, slots);
    return ok(new RayExecutor(settings, client, storage, Math.max(1, limit)));
  }

  takes(node: StageNode): boolean {
    return takesNode(this.#settings, node);
  }

  async run(
    node: StageNode,
    ctx: StageContext<unknown>,
  ): Promise<Result<StageSummary, StageFailure>> {
    try {
      return await this.#run(node, ctx);
    } catch (error) {
      // A storage that stops answering mid-sweep (the bucket's endpoint down, a key revoked)
      // fails this stage, as a Ray error does; anything else is a bug and is thrown on.
      const reason = storageError(error);
      if (reason === undefined) throw error;
      return fail({
        reason: 'external-service',
        message: `the Ray storage ${this.#storage.where}: ${reason}`,
      });
    }
  }

  async #run(
    node: StageNode,
    ctx: StageContext<unknown>,
  ): Promise<Result<StageSummary, StageFailure>> {
    const remote = (await node.kind.remote?.()) as RemoteStage<unknown>;
    const earlier = await this.#unconsumedJobs(node.key);
    if (!earlier.ok) return earlier;
    // The newest earlier job for this key whose output was never committed: follow it if it
    // still runs, adopt it if it finished. The others are leftovers of lost attempts.
    const found = earlier.value.find((j) => j.status !== 'FAILED' && j.status !== 'STOPPED');
    for (const leftover of earlier.value) {
      if (leftover !== found && TERMINAL_STATUSES.has(leftover.status)) {
        await this.#discard(leftover);
      }
    }
    if (found !== undefined) {
      ctx.report({
        type: 'log',
        level: 'info',
        message: `found Ray job ${found.submission_id} (${found.status}) from an earlier run; not submitting again`,
      });
    }
    let jobId = found?.submission_id;
    let submissions = found === undefined ? 0 : 1;
    for (;;) {
      if (jobId === undefined) {
        const submitted = await this.#submit(node, ctx, remote, submissions);
        if (!submitted.ok) return submitted;
        jobId = submitted.value;
        submissions += 1;
      }
      const followed = await this.#follow(jobId, remote, ctx);
      if (!followed.ok) return followed;
      const { details, lines } = followed.value;
      const verdict = classify(details, remote.outcome(lines), ctx.signal.aborted);
      if (verdict.kind === 'succeeded') {
        const jobDir = this.#jobDirOf(details);
        const collected = await this.#storage.collect(jobDir, node.key, ctx.outDir);
        if (!collected.ok) {
          return fail({
            reason: 'external-service',
            message: `Ray job ${details.submission_id} succeeded but ${collected.error}`,
          });
        }
        // Removed once the scheduler has committed the output (`committed`), not before.
        this.#jobDirs.set(node.key, jobDir);
        return remote.summarize(ctx, verdict.result);
      }
      // Whatever else it ended with, its folder on the storage is of no further use.
      await this.#discard(details);
      if (verdict.kind === 'cancelled') {
        return fail({ reason: 'cancelled', message: `Ray job ${details.submission_id} stopped` });
      }
      if (verdict.kind === 'failed') {
        return fail({
          ...verdict.failure,
          message: `${verdict.failure.message} (Ray job ${details.submission_id}; log: ${ctx.logFile})`,
        });
      }
      // Lost: ended without a verdict of its own.
      const resubmits = submissions - 1;
      const why = `${details.status}: ${details.message ?? 'no message'}`;
      if (resubmits >= this.#settings.maxResubmits) {
        return fail({
          reason: 'external-service',
          message: `Ray job ${details.submission_id} ended without a result (${why}); not submitted again after ${resubmits} resubmission(s) (executor.ray.max_resubmits: ${this.#settings.maxResubmits})`,
        });
      }
      ctx.report({
        type: 'log',
        level: 'warn',
        message: `Ray job ${details.submission_id} was lost (${why}); submitting it again (resubmission ${resubmits + 1} of ${this.#settings.maxResubmits})`,
      });
      jobId = undefined;
    }
  }

  async committed(node: StageNode): Promise<void> {
    const dir = this.#jobDirs.get(node.key);
    this.#jobDirs.delete(node.key);
    if (dir !== undefined) await this.#storage.discardJob(dir);
    // The output is whole in the store: the job's checkpoints on the storage are spent.
    await this.#storage.removeResume(node.key);
  }

  /**
   * Jobs submitted for this key whose folder is still on the storage, newest first: a
   * folder is removed once its output is committed or the job is given up, so these are the
   * jobs a crashed runner left to follow or adopt.
   */
  async #unconsumedJobs(key: string): Promise<Result<RayJobDetails[], StageFailure>> {
    const jobs = await this.#client.list();
    if (!jobs.ok) {
      return fail({ reason: 'external-service', message: `Ray: ${jobs.error.message}` });
    }
    const mine = jobs.value
      .filter((job) => job.metadata?.[META_KEY] === key)
      .sort((a, b) => (b.start_time ?? 0) - (a.start_time ?? 0));
    const kept: RayJobDetails[] = [];
    for (const job of mine) {
      if (await this.#storage.hasJob(this.#jobDirOf(job))) kept.push(job);
    }
    return ok(kept);
  }

  #jobDirOf(job: RayJobDetails): string {
    return job.metadata?.dermatune_job_dir ?? this.#storage.jobDir(job.submission_id);
  }

  async #discard(job: RayJobDetails): Promise<void> {
    await this.#storage.discardJob(this.#jobDirOf(job));
  }

  async #submit(
    node: StageNode,
    ctx: StageContext<unknown>,
    remote: RemoteStage<unknown>,
    attempt: number,
  ): Promise<Result<string, StageFailure>> {
    const submissionId = `dermatune-${node.key.slice(0, 16)}-${attempt + 1}-${randomBytes(3).toString('hex')}`;
    const jobDir = this.#storage.jobDir(submissionId);
    const paths = this.#storage.jobPaths(submissionId, node.key);
    // The key the job's output belongs to; checked before the output is adopted.
    await this.#storage.putJobFile(jobDir, 'stage-key', node.key);
    // What this job reads from the storage: an S3 job's stager fetches exactly these.
    const fetched: string[] = [];
    const inputs: Record<string, StageInputOutput> = {};
    for (const [name, input] of Object.entries(ctx.inputs)) {
      const dir = await this.#storage.shareInput(input.key, input.dir);
      fetched.push(dir);
      inputs[name] = { ...input, dir };
    }
    const built = await remote.job({
      params: ctx.params,
      inputs,
      outDir: paths.outDir,
      resumeDir: paths.resumeDir,
      key: node.key,
      writeJobFile: (name, content) => this.#storage.putJobFile(jobDir, name, content),
      share: async (dir) => {
        const shared = await this.#storage.shareFolder(dir);
        fetched.push(shared);
        return shared;
      },
    });
    if (!built.ok) return built;
    const runtimeEnv = await this.#runtimeEnv(built.value, paths, fetched);
    if (!runtimeEnv.ok) return runtimeEnv;
    const demand = demandOf(this.#settings, node.resources);
    const submission: RayJobSubmission = {
      entrypoint: runtimeEnv.value.entrypoint,
      submission_id: submissionId,
      runtime_env: runtimeEnv.value.env,
      metadata: {
        [META_KEY]: node.key,
        dermatune_node: node.id,
        dermatune_job_dir: jobDir,
        dermatune_attempt: String(attempt + 1),
      },
      entrypoint_num_cpus: demand.CPU,
      ...(demand.GPU ? { entrypoint_num_gpus: demand.GPU } : {}),
    };
    const submitted = await this.#client.submit(submission);
    if (!submitted.ok) {
      return fail({
        reason: 'external-service',
        message: `Ray refused job ${submissionId}: ${submitted.error.message}`,
      });
    }
    await appendFile(
      ctx.logFile,
      `--- Ray job ${submissionId} at ${this.#settings.address} (attempt ${attempt + 1}), files in ${jobDir}\n`,
    );
    ctx.report({ type: 'log', level: 'info', message: `submitted Ray job ${submissionId}` });
    return ok(submissionId);
  }

  /**
   * The job's command (behind the storage's stager, if it has one) and its runtime env: code,
   * pinned requirements, plain settings. Never credentials: a dashboard shows runtime envs.
   */
  async #runtimeEnv(
    job: RemoteJob,
    paths: JobPaths,
    fetched: readonly string[],
  ): Promise<Result<{ entrypoint: string; env: Record<string, unknown> }, StageFailure>> {
    const command = await this.#storage.jobCommand(job.entrypoint, paths, fetched);
    const code = await packageFolder(job.code.dir, job.code.include, command.code);
    const present = await this.#client.hasPackage(code.uri);
    if (!present.ok || !present.value) {
      const uploaded = await this.#client.uploadPackage(code.uri, code.zip);
      if (!uploaded.ok) {
        return fail({
          reason: 'external-service',
          message: `uploading the job's code to Ray: ${uploaded.error.message}`,
        });
      }
    }
    return ok({
      entrypoint: command.entrypoint,
      env: {
        working_dir: code.uri,
        pip: { packages: [...job.requirements, ...command.requirements], pip_check: false },
        env_vars: { PYTHONUNBUFFERED: '1', ...job.env },
      },
    });
  }

  /**
   * Streams the job's log until it ends, then reads the whole log once more: the verdict comes
   * from the complete text. If the stream drops while the job runs it reconnects; if the
   * websocket cannot be opened at all (a proxy), the log is polled instead.
   */
  async #follow(
    id: string,
    remote: RemoteStage<unknown>,
    ctx: StageContext<unknown>,
  ): Promise<Result<{ details: RayJobDetails; lines: string[] }, StageFailure>> {
    // Lines handled so far; every tail connection and every full read starts from the top.
    let seen = 0;
    const handle = async (lines: readonly string[]) => {
      const fresh = lines.slice(seen);
      seen = Math.max(seen, lines.length);
      const logLines: string[] = [];
      for (const line of fresh) {
        const reports = remote.reports(line);
        for (const report of reports) ctx.report(report);
        if (reports.length === 0) logLines.push(line);
      }
      if (logLines.length > 0) await appendFile(ctx.logFile, `${logLines.join('\n')}\n`);
    };
    const onAbort = () => {
      void this.#client.stop(id);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        let partial = '';
        const streamed: string[] = [];
        let pending = Promise.resolve();
        const tailed = await this.#client.tail(
          id,
          (text) => {
            const parts = (partial + text).split('\n');
            partial = parts.pop() ?? '';
            streamed.push(...parts);
            pending = pending.then(() => handle(streamed));
          },
          ctx.signal,
        );
        await pending;
        if (!tailed.ok) {
          const logs = await this.#client.logs(id);
          if (logs.ok) await handle(completeLines(logs.value));
        }
        const details = await this.#waitTerminal(id, ctx.signal.aborted);
        if (!details.ok) return details;
        if (details.value === undefined) continue; // still running: the stream dropped
        const logs = await this.#client.logs(id);
        const lines = logs.ok ? completeLines(logs.value) : [];
        await handle(lines);
        return ok({ details: details.value, lines });
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The job's details once terminal. After a stop, waits for Ray to finish stopping it; else a
   * non-terminal status after the stream closed means the stream dropped (undefined).
   */
  async #waitTerminal(
    id: string,
    stopping: boolean,
  ): Promise<Result<RayJobDetails | undefined, StageFailure>> {
    // Ray marks a job terminal a moment after its log closes; polling finely keeps that moment
    // off every stage's time. Still running 3 s after the stream closed: the stream dropped.
    const interval = 250;
    const deadline = Date.now() + (stopping ? 60_000 : 3000);
    for (;;) {
      const details = await this.#client.job(id);
      if (!details.ok) {
        return fail({ reason: 'external-service', message: `Ray: ${details.error.message}` });
      }
      if (TERMINAL_STATUSES.has(details.value.status)) return ok(details.value);
      if (Date.now() > deadline) return ok(undefined);
      await sleep(interval);
    }
  }
}

/**
 * What an S3 SDK error or a file system error says, in a line (its code, not the server's text,
 * which may echo a signature); undefined for anything else.
 */
function storageError(error: unknown): string | undefined {
  const { name, code, $metadata } = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if ($metadata !== undefined)
    return `${name ?? 'error'} (HTTP ${$metadata.httpStatusCode ?? '?'})`;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
    return `${code}: ${(error as Error).message}`;
  return undefined;
}

/** Stages with a remote form that declare a GPU, or at least `heavyCpus` CPUs, go to Ray. */
function takesNode(settings: RayExecutorSettings, node: StageNode): boolean {
  if (node.kind.remote === undefined) return false;
  const { gpu = 0, cpu = 1 } = node.resources;
  return gpu > 0 || cpu >= settings.heavyCpus;
}

/** What a job asks Ray for: the stage's CPUs, and its GPUs unless the cluster has none. */
function demandOf(
  settings: RayExecutorSettings,
  resources: StageResources,
): Record<string, number> {
  const demand: Record<string, number> = { CPU: resources.cpu ?? 1 };
  if (settings.useGpus && (resources.gpu ?? 0) > 0) demand.GPU = resources.gpu ?? 0;
  return demand;
}

type Verdict =
  | { kind: 'succeeded'; result: unknown }
  | { kind: 'failed'; failure: StageFailure }
  | { kind: 'cancelled' }
  | { kind: 'lost' };

/**
 * What a finished job means. Its own verdict wins (a worker error is the stage's failure and
 * is not retried); a job with none, or one told to stop by someone other than this run, was
 * lost and may be submitted again.
 */
export function classify(job: RayJobDetails, outcome: RemoteOutcome, weStopped: boolean): Verdict {
  if (weStopped) return { kind: 'cancelled' };
  if (job.status === 'SUCCEEDED' && outcome.state === 'done') {
    return { kind: 'succeeded', result: outcome.result };
  }
  if (job.error_type === 'RUNTIME_ENV_SETUP_FAILURE') {
    return {
      kind: 'failed',
      failure: {
        reason: 'external-service',
        message: `Ray could not set up the job's environment: ${job.message ?? ''}`,
      },
    };
  }
  if (outcome.state === 'failed' && !outcome.cancelled) {
    return { kind: 'failed', failure: outcome.failure };
  }
  return { kind: 'lost' };
}

/** The log's lines, without the last one while it is still being written. */
function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

/** How many jobs of this demand the nodes hold at once, each job on one node. */
export function capacity(nodes: readonly RayNode[], demand: Record<string, number>): number {
  let total = 0;
  for (const node of nodes) {
    let fits = Number.POSITIVE_INFINITY;
    for (const [name, amount] of Object.entries(demand)) {
      if (amount <= 0) continue;
      fits = Math.min(fits, Math.floor((node.resources_total[name] ?? 0) / amount));
    }
    total += Number.isFinite(fits) ? fits : 0;
  }
  return total;
}
