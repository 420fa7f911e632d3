import { fail, ok, type Result } from '../../runner/result.ts';
import type { StageFailure } from '../../runner/stage-kind.ts';
import { hubAccess } from '../shared/hub-access.ts';
import { ensureStandInModel, isStandIn, standInBuilderDigest } from './stand-in-model.ts';
import { ensureWorkerEnv } from './worker-client.ts';
import { workerFingerprint } from './worker-fingerprint.ts';

/**
 * What the train and generate stages share about the worker: getting an interpreter (and the
 * stand-in model when a spec names it), and the fingerprints that enter their keys.
 */

export interface ReadyWorker {
  python: string;
}

/**
 * Once per process and base model: the stage's own call joins the one `run` made before the
 * sweep's first stage (the `prepare` hook), and a failure is tried again.
 */
export function prepareWorker(base: string): Promise<Result<ReadyWorker, StageFailure>> {
  let pending = preparing.get(base);
  if (pending === undefined) {
    pending = readyWorker(base).then((ready) => {
      if (!ready.ok) preparing.delete(base);
      return ready;
    });
    preparing.set(base, pending);
  }
  return pending;
}

const preparing = new Map<string, Promise<Result<ReadyWorker, StageFailure>>>();

async function readyWorker(base: string): Promise<Result<ReadyWorker, StageFailure>> {
  const python = await ensureWorkerEnv();
  if (!python.ok) return fail({ reason: 'worker-error', message: python.error.message });
  if (isStandIn(base)) {
    const model = await ensureStandInModel(python.value, base);
    if (!model.ok) {
      return fail({ reason: 'missing-model', message: `stand-in model: ${model.error.message}` });
    }
  }
  return ok({ python: python.value });
}

export async function modelWorkerFingerprints(
  jobType: 'train' | 'generate',
  model: { base: string; revision?: string | null },
): Promise<Record<string, string>> {
  const prints: Record<string, string> = {
    worker: await workerFingerprint(jobType),
    model: model.revision ? `${model.base}@${model.revision}` : model.base,
  };
  if (isStandIn(model.base)) prints.stand_in_builder = await standInBuilderDigest(model.base);
  return prints;
}

/** Downloads from the hub are on unless the environment says the machine is offline. */
export function downloadsAllowed(): boolean {
  return hubAccess().offline === undefined;
}
