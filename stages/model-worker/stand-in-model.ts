import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import { WORKER_DIR } from './worker-client.ts';

/**
 * The local stand-in for SmolVLM (`tiny-smolvlm-standin`): a tiny random-weight Idefics3 model built
 * offline by `dermatune_worker/tiny_model.py`. Built once per builder version: the folder's
 * `stand-in.json` records the digest of the builder file, and a match skips the build without
 * starting Python.
 */
export const STAND_IN_NAME = 'tiny-smolvlm-standin';
const BUILDER = join(WORKER_DIR, 'dermatune_worker', 'tiny_model.py');

/** Where bare model names resolve (`model.base: tiny-smolvlm-standin`); ignored by git. */
export function modelsDir(): string {
  return process.env.DERMATUNE_MODELS ?? join(projectRoot(), '.dermatune', 'models');
}

export interface StandInModel {
  path: string;
  /** Whether this call built it (false: it was current already). */
  built: boolean;
  builderDigest: string;
}

export async function standInBuilderDigest(): Promise<string> {
  return sha256Hex(await readFile(BUILDER));
}

export async function ensureStandInModel(
  python: string,
  dir: string = modelsDir(),
): Promise<Result<StandInModel, { reason: 'build-failed'; message: string }>> {
  const path = join(dir, STAND_IN_NAME);
  const builderDigest = await standInBuilderDigest();
  if ((await recordedDigest(path)) === builderDigest)
    return ok({ path, built: false, builderDigest });
  await mkdir(dir, { recursive: true });
  // Parallel test files and runs may all find it missing; one builds, the others wait and reuse.
  const release = await lockfile.lock(dir, {
    lockfilePath: `${path}.lock`,
    retries: { retries: 300, minTimeout: 500, maxTimeout: 1000 },
    stale: 5 * 60_000,
  });
  try {
    if ((await recordedDigest(path)) === builderDigest)
      return ok({ path, built: false, builderDigest });
    return await build(python, path, builderDigest);
  } finally {
    await release();
  }
}

async function build(
  python: string,
  path: string,
  builderDigest: string,
): Promise<Result<StandInModel, { reason: 'build-failed'; message: string }>> {
  const built = await new Promise<Result<void, string>>((resolve) => {
    const child = spawn(python, ['-m', 'dermatune_worker.tiny_model', path], {
      cwd: WORKER_DIR,
      env: { ...process.env, PYTHONPATH: WORKER_DIR },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('error', (error) => resolve(fail(error.message)));
    child.on('close', (code) =>
      resolve(code === 0 ? ok(undefined) : fail(`exit ${code}: ${tail}`)),
    );
  });
  if (!built.ok) return fail({ reason: 'build-failed', message: built.error });
  return ok({ path, built: true, builderDigest });
}

async function recordedDigest(path: string): Promise<string | undefined> {
  try {
    const marker = JSON.parse(await readFile(join(path, 'stand-in.json'), 'utf8')) as {
      builder_digest?: string;
    };
    return marker.builder_digest;
  } catch {
    return undefined;
  }
}
