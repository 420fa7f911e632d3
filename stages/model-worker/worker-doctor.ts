import { ok, type Result } from '../../runner/result.ts';
import { modelsDir } from './stand-in-model.ts';
import { runWorker, type WorkerFailure } from './worker-client.ts';

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
}

export async function workerDoctor(
  logFile: string,
): Promise<Result<WorkerDoctorReport, WorkerFailure>> {
  const result = await runWorker({ type: 'doctor', models_dir: modelsDir() }, { logFile });
  if (!result.ok) return result;
  return ok(result.value.summary as unknown as WorkerDoctorReport);
}
