import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { WORKER_DIR, WORKER_REQUIREMENTS } from './worker-client.ts';

/**
 * Digest of everything in the worker that decides a train or generate output: its Python code
 * and its pinned requirements. It enters the keys of the train and generate stages, so editing
 * the worker reruns them and nothing else. The fork server (dermatune_forkserver/) only starts
 * jobs and is left out: a job forked by it gives the same bytes (tests/model-worker/fork-server).
 */
export function workerFingerprint(): Promise<string> {
  // Read once per process: a process keys its stages when it plans, and a sweep asks for this
  // once per train and generate node (twenty times for the paper's), each time the same files.
  digest ??= readWorkerDigest();
  return digest;
}

let digest: Promise<string> | undefined;

async function readWorkerDigest(): Promise<string> {
  const packageDir = join(WORKER_DIR, 'dermatune_worker');
  const files = (await readdir(packageDir)).filter((name) => name.endsWith('.py')).sort();
  const parts = await Promise.all(
    files.map(async (name) => `${name}:${sha256Hex(await readFile(join(packageDir, name)))}`),
  );
  parts.push(`requirements.txt:${sha256Hex(await readFile(WORKER_REQUIREMENTS))}`);
  return sha256Hex(parts.join('\n'));
}
