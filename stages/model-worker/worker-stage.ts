import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RemoteOutcome, RemoteStage } from '../../runner/executors/remote-stage.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import type {
  StageContext,
  StageFailure,
  StageInputs,
  StageReport,
  StageSummary,
} from '../../runner/stage-kind.ts';
import { JOB_SCHEMA_FILE } from './job-schema.ts';
import { prepareWorker } from './model-ref.ts';
import { runWorkerForStage, workerEventReports } from './stage-reports.ts';
import { isStandIn, modelsDir as localModelsDir } from './stand-in-model.ts';
import { parseEvent, toStageFailure, WORKER_DIR, WORKER_REQUIREMENTS } from './worker-client.ts';
import type { WorkerDone, WorkerJob } from './worker-job.ts';

/**
 * The train and generate stages over the model worker, in both forms: here (`workerLocalRun`)
 * and as cluster jobs (`workerRemoteStage`), from one description of the job. As a job, the
 * worker package and its pinned requirements travel in the runtime environment, the job
 * description is written to shared storage, and the worker's JSON-line events come back
 * through the job's log, where they become the same progress and metrics as a local run's.
 */
export interface WorkerStagePaths<P, I extends string, O extends string> {
  params: P;
  inputs: StageInputs<I, O>;
  outDir: string;
  /** Where bare model names resolve (here, or the shared copy of the stand-in on a cluster). */
  modelsDir: string;
  /** The stage key's resume folder (here, or on shared storage for a cluster job). */
  resumeDir?: string;
}

export interface WorkerStage<P, I extends string, O extends string> {
  job(paths: WorkerStagePaths<P, I, O>): Result<WorkerJob, StageFailure>;
  summarize(done: WorkerDone): StageSummary;
  /** Refuses outputs that are complete but useless (e.g. every prediction empty). */
  check?(outDir: string): Promise<StageFailure | undefined>;
}

export function workerLocalRun<
  P extends { model: { base: string } },
  I extends string,
  O extends string,
>(
  stage: WorkerStage<P, I, O>,
): (ctx: StageContext<P, I, O>) => Promise<Result<StageSummary, StageFailure>> {
  return async (ctx) => {
    const job = stage.job({ ...ctx, modelsDir: localModelsDir() });
    if (!job.ok) return job;
    const ready = await prepareWorker(ctx.params.model.base);
    if (!ready.ok) return ready;
    const result = await runWorkerForStage(ctx, job.value, ready.value.python);
    if (!result.ok) return result;
    const refused = await stage.check?.(ctx.outDir);
    return refused ? fail(refused) : ok(stage.summarize(result.value));
  };
}

export function workerRemoteStage<
  P extends { model: { base: string } },
  I extends string,
  O extends string,
>(stage: WorkerStage<P, I, O>): RemoteStage<P, I, O> {
  return {
    async job(ctx) {
      const models = await sharedModels(ctx.params.model.base, ctx.share);
      if (!models.ok) return models;
      const built = stage.job({ ...ctx, modelsDir: models.value });
      if (!built.ok) return built;
      const jobFile = await ctx.writeJobFile('job.json', JSON.stringify(built.value, null, 2));
      return ok({
        entrypoint: `python -m dermatune_worker ${shellQuote(jobFile)}`,
        code: { dir: WORKER_DIR, include: isWorkerCode },
        requirements: await pinnedRequirements(),
        env: passThroughEnv(),
      });
    },
    reports(line: string): StageReport[] {
      const event = parseEvent(line);
      return event === undefined ? [] : workerEventReports(event);
    },
    outcome(lines: readonly string[]): RemoteOutcome {
      return workerOutcome(lines);
    },
    async summarize(ctx, result) {
      const refused = await stage.check?.(ctx.outDir);
      return refused ? fail(refused) : ok(stage.summarize(result as WorkerDone));
    },
  };
}

/** The worker's last `done` or `error` event in its output decides; none means it was cut off. */
export function workerOutcome(lines: readonly string[]): RemoteOutcome {
  for (let i = lines.length - 1; i >= 0; i--) {
    const event = parseEvent(lines[i] ?? '');
    if (event?.event === 'done') return { state: 'done', result: event };
    if (event?.event === 'error') {
      return {
        state: 'failed',
        failure: toStageFailure({
          reason: event.kind,
          message: event.message,
          logFile: 'the stage log',
        }),
        cancelled: event.kind === 'cancelled',
      };
    }
  }
  return { state: 'no-result' };
}

/**
 * The stand-in model (and any local model folder) is built or found here and copied to shared
 * storage; a hub id is left for the cluster to fetch.
 */
async function sharedModels(
  base: string,
  share: (dir: string) => Promise<string>,
): Promise<Result<string, StageFailure>> {
  if (isStandIn(base)) {
    const ready = await prepareWorker(base);
    if (!ready.ok) return ready;
    return ok(dirname(await share(join(localModelsDir(), base))));
  }
  // A hub id is fetched by the cluster; a local folder must be one the cluster sees too.
  return ok(localModelsDir());
}

function isWorkerCode(path: string): boolean {
  return (
    path === 'requirements.txt' ||
    path === `dermatune_worker/${JOB_SCHEMA_FILE}` ||
    (path.startsWith('dermatune_worker/') && path.endsWith('.py') && !path.includes('__pycache__'))
  );
}

async function pinnedRequirements(): Promise<string[]> {
  const text = await readFile(WORKER_REQUIREMENTS, 'utf8');
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** Settings that change how the worker fetches models; never credentials. */
function passThroughEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'DERMATUNE_OFFLINE']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function shellQuote(text: string): string {
  return /^[\w./@:-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
