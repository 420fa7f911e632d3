import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreflightCheck } from '../../runner/preflight-check.ts';
import { type MemoryEstimateRequest, workerDoctor } from './worker-doctor.ts';

const GIB = 1024 ** 3;

/**
 * Whether each training job fits the GPU, before anything runs: the worker's estimate
 * (dermatune_worker/memory.py) against the CUDA devices it sees here. With no GPU here (a
 * cluster run, a laptop), the check says what the job will need and is skipped: the worker
 * checks again, before loading the model, on the GPU it runs on.
 */
export async function trainMemoryChecks(
  requests: readonly MemoryEstimateRequest[],
): Promise<PreflightCheck[]> {
  if (requests.length === 0) return [];
  const log = join(await mkdtemp(join(tmpdir(), 'dermatune-memory-')), 'doctor.log');
  const doctor = await workerDoctor(log, [...requests]);
  if (!doctor.ok) {
    return requests.map((request) => ({
      part: 'gpu',
      subject: `memory for ${request.name}`,
      outcome: 'skipped',
      detail: `the worker could not estimate it: ${doctor.error.message} (log: ${log})`,
    }));
  }
  const largest = Math.max(0, ...doctor.value.gpu_memory);
  return doctor.value.memory_estimates.map((estimate) => {
    const subject = `memory for ${estimate.name} (${estimate.model})`;
    if (estimate.error || estimate.bytes === undefined) {
      return { part: 'gpu', subject, outcome: 'skipped', detail: estimate.error ?? 'no estimate' };
    }
    if (largest === 0) {
      return {
        part: 'gpu',
        subject,
        outcome: 'skipped',
        detail: `needs ${estimate.description}; no CUDA device here, the worker checks on the GPU it runs on`,
      };
    }
    const fits = estimate.bytes <= largest;
    return {
      part: 'gpu',
      subject,
      outcome: fits ? 'passed' : 'failed',
      detail: `needs ${estimate.description}; the largest GPU here has ${(largest / GIB).toFixed(1)} GiB${fits ? '' : ': lower train.batch_size, set train.image_size, turn on train.gradient_checkpointing or set train.lora.scope: text_model'}`,
      setting: 'train.batch_size',
    };
  });
}
