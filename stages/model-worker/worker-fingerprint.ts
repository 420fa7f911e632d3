import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { JOB_ENTRY, JOB_SCHEMA_FILE, type JobType } from './job-schema.ts';
import { pythonImports } from './python-imports.ts';
import { WORKER_DIR } from './worker-client.ts';

/** The worker's Python package, by folder name under WORKER_DIR. */
const PACKAGE = 'dermatune_worker';

/**
 * Digest of what decides one job type's output: the worker modules that job actually runs
 * (the module graph from the package's `__main__` and the job type's entry module, by their
 * import statements), the job contract it is validated against, and the pinned requirements.
 * It enters the keys of the train and generate stages, so a change to a module a job never
 * imports (the doctor, a stand-in builder, a new model family's module) reruns nothing. The
 * fork server (dermatune_forkserver/) only starts jobs and is left out: a job forked by it
 * gives the same bytes (tests/model-worker/fork-server).
 */
export function workerFingerprint(jobType: JobType, workerDir = WORKER_DIR): Promise<string> {
  // Read once per process and job type: a sweep asks once per train and generate node
  // (twenty times for the paper's), each time the same files.
  const id = `${workerDir}\0${jobType}`;
  let pending = digests.get(id);
  if (pending === undefined) {
    pending = readWorkerDigest(jobType, workerDir);
    digests.set(id, pending);
  }
  return pending;
}

const digests = new Map<string, Promise<string>>();

/** The package modules (file paths relative to the package) one job type runs, sorted. */
export async function jobModules(jobType: JobType, workerDir = WORKER_DIR): Promise<string[]> {
  const packageDir = join(workerDir, PACKAGE);
  const entry = `${JOB_ENTRY[jobType].split(':')[0]}.py`;
  const seen = new Set<string>();
  const queue = ['__main__.py', '__init__.py', entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    const source = await readFile(join(packageDir, file), 'utf8').catch(() => undefined);
    // A relative import of a name that is not a module (`from . import x` of a function) is
    // no file; Python would fail on a real missing module long before a key matters.
    if (source === undefined) continue;
    seen.add(file);
    for (const module of pythonImports(source, PACKAGE)) queue.push(`${module}.py`);
  }
  return [...seen].sort();
}

async function readWorkerDigest(jobType: JobType, workerDir: string): Promise<string> {
  const packageDir = join(workerDir, PACKAGE);
  const files = [...(await jobModules(jobType, workerDir)), JOB_SCHEMA_FILE];
  const parts = await Promise.all(
    files.map(async (name) => `${name}:${sha256Hex(await readFile(join(packageDir, name)))}`),
  );
  parts.push(`requirements.txt:${sha256Hex(await readFile(join(workerDir, 'requirements.txt')))}`);
  return sha256Hex(parts.join('\n'));
}
