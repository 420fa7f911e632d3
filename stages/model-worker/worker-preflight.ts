import { existsSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PreflightCheck, PreflightContext } from '../../runner/preflight-check.ts';
import { proveHubModel } from '../biomedica/hub-preflight.ts';
import { hubFamilyCheck, localFamilyCheck } from './model-families.ts';
import { downloadsAllowed } from './model-ref.ts';
import { isStandIn, modelsDir } from './stand-in-model.ts';
import { type WorkerDoctorReport, workerDoctor } from './worker-doctor.ts';

/**
 * What the train and generate stages prove before a run: the base model can be had (a local
 * folder, the stand-in, or a hub repository that resolves at its revision, the way the worker
 * resolves `model.base`) and is of a family the worker supports (its config.json), and for `train.device: cuda` that the worker's torch sees a CUDA GPU,
 * with its memory (asked of the worker's doctor, in the project's venv).
 */
export async function baseModelPreflight(
  model: { base: string; revision?: string | null },
  ctx: PreflightContext,
): Promise<PreflightCheck[]> {
  const { base } = model;
  const subject = `model ${base}`;
  if (isStandIn(base)) {
    return [
      {
        part: 'model',
        subject,
        outcome: 'passed',
        detail: 'the stand-in, built offline on first use',
      },
    ];
  }
  const folder = [resolve(base), join(modelsDir(), base)].find(isDir);
  if (folder !== undefined) {
    return [
      { part: 'model', subject, outcome: 'passed', detail: 'a local folder' },
      localFamilyCheck(base, folder),
    ];
  }
  if (
    base.startsWith('/') ||
    base.startsWith('.') ||
    base.startsWith('~') ||
    base.split('/').length > 2
  ) {
    return [
      {
        part: 'model',
        subject,
        outcome: 'failed',
        detail: 'this model folder does not exist',
        setting: 'model.base',
      },
    ];
  }
  if (!downloadsAllowed()) {
    return [
      {
        part: 'hub',
        subject,
        outcome: 'skipped',
        detail:
          'downloads are off (HF_HUB_OFFLINE / DERMATUNE_OFFLINE); the worker must find it in the Hugging Face cache',
      },
    ];
  }
  const revision = model.revision ?? 'main';
  const repository = await proveHubModel(base, revision, 'model.base', ctx);
  return repository.outcome === 'passed'
    ? [repository, await hubFamilyCheck(base, revision, ctx)]
    : [repository];
}

export async function cudaPreflight(
  device: string | undefined,
  ctx: PreflightContext,
): Promise<PreflightCheck[]> {
  if (device !== 'cuda') return [];
  const doctor = await workerReport(ctx);
  if (!doctor.report.ok) {
    return [
      {
        part: 'gpu',
        subject: 'CUDA',
        outcome: 'failed',
        detail: `the Python worker could not be asked: ${doctor.report.error.message} (log: ${doctor.log})`,
        setting: 'train.device',
      },
    ];
  }
  return [cudaCheck(doctor.report.value.cuda)];
}

/**
 * The worker doctor's report (Python, torch, CUDA devices and their memory), asked once per
 * preflight whichever check needs it (a GPU memory estimate can read the same report).
 */
export function workerReport(
  ctx: PreflightContext,
): Promise<{ report: Awaited<ReturnType<typeof workerDoctor>>; log: string }> {
  return ctx.once('worker-doctor', async () => {
    const log = join(await mkdtemp(join(tmpdir(), 'dermatune-preflight-')), 'doctor.log');
    return { report: await workerDoctor(log), log };
  });
}

/** The check for one doctor report's CUDA section. */
export function cudaCheck(cuda: WorkerDoctorReport['cuda']): PreflightCheck {
  if (!cuda.available || cuda.devices.length === 0) {
    return {
      part: 'gpu',
      subject: 'CUDA',
      outcome: 'failed',
      detail: `train.device is cuda, but the worker's torch sees no CUDA GPU${cuda.version ? '' : ' (a CPU-only torch build)'}; run on a machine with one, or set train.device: cpu`,
      setting: 'train.device',
    };
  }
  const devices = cuda.devices.map(
    (name, i) =>
      `${name}${cuda.memory_bytes?.[i] ? ` (${(cuda.memory_bytes[i] / 2 ** 30).toFixed(1)} GiB)` : ''}`,
  );
  return {
    part: 'gpu',
    subject: 'CUDA',
    outcome: 'passed',
    detail: `CUDA ${cuda.version}: ${devices.join(', ')}; bf16 ${cuda.bf16 ? 'yes' : 'no'}`,
  };
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
