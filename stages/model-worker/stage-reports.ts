import { fail, type Result } from '../../runner/result.ts';
import type { StageContext, StageFailure, StageReport } from '../../runner/stage-kind.ts';
import { runWorker, toStageFailure } from './worker-client.ts';
import type { WorkerDone, WorkerEvent, WorkerJob } from './worker-job.ts';

/**
 * What the runner's reporters and tracking see of a worker run: every optimizer step as
 * `train/*` metrics (MLflow's slash-prefixed names) plus a progress tick, generation batches as
 * progress, warnings as log lines. Errors and the final event are the caller's business.
 */
export function workerEventReports(event: WorkerEvent): StageReport[] {
  switch (event.event) {
    case 'metric': {
      const reports: StageReport[] = [
        { type: 'progress', done: event.step, total: event.total_steps, unit: 'step' },
        {
          type: 'metric',
          name: 'train/learning_rate',
          value: event.learning_rate,
          step: event.step,
        },
        {
          type: 'metric',
          name: 'train/tokens_per_second',
          value: event.tokens_per_second,
          step: event.step,
        },
        { type: 'metric', name: 'train/epoch', value: event.epoch, step: event.step },
      ];
      if (event.loss !== null) {
        reports.push({ type: 'metric', name: 'train/loss', value: event.loss, step: event.step });
      }
      if (event.grad_norm !== null) {
        reports.push({
          type: 'metric',
          name: 'train/grad_norm',
          value: event.grad_norm,
          step: event.step,
        });
      }
      return reports;
    }
    case 'progress':
      return [
        {
          type: 'progress',
          done: event.done,
          total: event.total,
          unit: event.unit,
          note: event.phase,
        },
      ];
    case 'warning':
      return [{ type: 'log', level: 'warn', message: event.message }];
    case 'resumed':
      if (event.job_type === 'train') {
        return [
          { type: 'progress', done: event.step, total: event.total_steps, unit: 'step' },
          {
            type: 'log',
            level: 'info',
            message: `resumed from the checkpoint at step ${event.step}/${event.total_steps}`,
          },
          // One point per resume (step = where it resumed), so MLflow shows every resume.
          {
            type: 'metric',
            name: 'train/resumed_from_step',
            value: event.step,
            step: event.step,
          },
        ];
      }
      return [
        { type: 'progress', done: event.done, total: event.total, unit: 'item', note: 'generate' },
        {
          type: 'log',
          level: 'info',
          message: `resumed generation after ${event.done}/${event.total} items already answered`,
        },
      ];
    case 'started':
      return [
        {
          type: 'log',
          level: 'info',
          message: `model worker: ${event.job_type} ${event.model} on ${event.device} (${event.precision})`,
        },
      ];
    case 'error':
    case 'done':
      return [];
    default:
      return [];
  }
}

/** Runs a worker job for a stage: its events become the stage's reports, its failure the stage's. */
export async function runWorkerForStage<P>(
  ctx: StageContext<P>,
  job: WorkerJob,
  python: string,
): Promise<Result<WorkerDone, StageFailure>> {
  const result = await runWorker(job, {
    python,
    logFile: ctx.logFile,
    signal: ctx.signal,
    onEvent: (event) => {
      for (const report of workerEventReports(event)) ctx.report(report);
    },
  });
  return result.ok ? result : fail(toStageFailure(result.error));
}
