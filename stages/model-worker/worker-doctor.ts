import { ok, type Result } from '../../runner/result.ts';
import { modelsDir } from './stand-in-model.ts';
import { runWorker, type WorkerFailure } from './worker-client.ts';
import type { DoctorJob } from './worker-job.ts';

/** What `dermatune doctor` shows of the Python side. */
export interface WorkerDoctorReport {
  python: { version: string; executable: string };
  /** Installed versions of the worker's main packages (null: missing). */
  packages: Record<string, string | null>;
  cuda: {
    available: boolean;
    version: string | null;
    devices: string[];
    /** Total memory of each device, in the order of `devices`. */
    memory_bytes: number[];
    bf16: boolean;
  };
  cpu_threads: number;
  /** Models usable offline: the project's models folder (the stand-in) and the HF cache. */
  models: Array<{
    name: string;
    path: string;
    source: 'models-dir' | 'hf-cache';
    stand_in_for?: string;
    revisions?: string[];
  }>;
  /** Total memory of each CUDA device, bytes. */
  gpu_memory: number[];
  memory_estimates: MemoryEstimate[];
}

/** A training job's GPU memory as the worker estimates it (dermatune_worker/memory.py). */
export interface MemoryEstimate {
  name: string;
  model: string;
  /** Set when the model's architecture is unknown here; the rest is then absent. */
  error?: string;
  bytes?: number;
  parts?: Record<string, number>;
  tiles_per_image?: number;
  sequence_tokens?: number;
  description?: string;
}

/** A training job whose memory to estimate, named by what it is for (a stage id, a variant). */
export type MemoryEstimateRequest = NonNullable<DoctorJob['estimates']>[number];

export async function workerDoctor(
  logFile: string,
  estimates: MemoryEstimateRequest[] = [],
): Promise<Result<WorkerDoctorReport, WorkerFailure>> {
  const result = await runWorker(
    { type: 'doctor', models_dir: modelsDir(), estimates },
    { logFile },
  );
  if (!result.ok) return result;
  return ok(result.value.summary as unknown as WorkerDoctorReport);
}
