import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, sha256Hex } from '../../runner/canonical-json.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { lockResource } from '../../runner/resource-lock.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import { ensureLocalModel, localModelFingerprint } from '../llm/local-model.ts';
import { WORKER_DIR } from './worker-client.ts';

/**
 * The local stand-ins for SmolVLM, built offline by the worker's builder modules and named
 * stand-ins everywhere (name, README, `stand-in.json`):
 * - `tiny-smolvlm-standin`: a tiny random-weight Idefics3 model (`dermatune_worker/tiny_model.py`),
 *   fast enough for the tests, which need a model that trains, not one that learns.
 * - `smolvlm-smollm2-standin`: SmolVLM-256M's shape with SmolLM2-135M-Instruct's pretrained
 *   weights as its text model, read from the local LLM's GGUF, and a random vision tower
 *   (`dermatune_worker/smollm2_standin.py`): the demo's model, which writes English and learns.
 * Each is built once per digest: the builder files' bytes plus the fingerprint of the weights it
 * reads. The folder's `stand-in.json` records it, and a match skips the build without Python.
 */
export const STAND_IN_NAME = 'tiny-smolvlm-standin';
export const DEMO_STAND_IN_NAME = 'smolvlm-smollm2-standin';

interface StandInBuilder {
  module: string;
  /** Files under dermatune_worker/ whose bytes decide the build. */
  files: readonly string[];
  /** The local LLM (stages/llm/local-model.ts) whose GGUF holds the text weights. */
  textWeights?: string;
}

const BUILDERS: Readonly<Record<string, StandInBuilder>> = {
  [STAND_IN_NAME]: { module: 'dermatune_worker.tiny_model', files: ['tiny_model.py'] },
  [DEMO_STAND_IN_NAME]: {
    module: 'dermatune_worker.smollm2_standin',
    files: ['tiny_model.py', 'smollm2_standin.py'],
    textWeights: 'smollm2-135m-instruct-q4_1',
  },
};

export function isStandIn(name: string): boolean {
  return Object.hasOwn(BUILDERS, name);
}

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

type StandInFailure = { reason: 'build-failed'; message: string };

export async function standInBuilderDigest(name: string): Promise<string> {
  const builder = builderOf(name);
  const files: Record<string, string> = {};
  for (const file of builder.files) {
    files[file] = sha256Hex(await readFile(join(WORKER_DIR, 'dermatune_worker', file)));
  }
  return sha256Hex(
    canonicalJson({
      files,
      text_weights: builder.textWeights ? localModelFingerprint(builder.textWeights) : null,
    }),
  );
}

function builderOf(name: string): StandInBuilder {
  const builder = BUILDERS[name];
  // Callers check isStandIn first: asking for an unknown one is a bug.
  if (!builder) throw new Error(`${name} is not a stand-in model`);
  return builder;
}

export async function ensureStandInModel(
  python: string,
  name: string,
  dir: string = modelsDir(),
): Promise<Result<StandInModel, StandInFailure>> {
  const path = join(dir, name);
  const builderDigest = await standInBuilderDigest(name);
  if ((await recordedDigest(path)) === builderDigest)
    return ok({ path, built: false, builderDigest });
  await mkdir(dir, { recursive: true });
  // Parallel test files and runs may all find it missing; one builds, the others wait and reuse.
  const release = await lockResource(path, {
    retries: { retries: 300, minTimeout: 500, maxTimeout: 1000 },
    stale: 5 * 60_000,
  });
  try {
    if ((await recordedDigest(path)) === builderDigest)
      return ok({ path, built: false, builderDigest });
    return await build(python, builderOf(name), path, builderDigest);
  } finally {
    await release();
  }
}

async function build(
  python: string,
  builder: StandInBuilder,
  path: string,
  builderDigest: string,
): Promise<Result<StandInModel, StandInFailure>> {
  const args = [path];
  if (builder.textWeights) {
    const gguf = await ensureLocalModel(builder.textWeights);
    if (!gguf.ok) return fail({ reason: 'build-failed', message: gguf.error.message });
    args.push(gguf.value);
  }
  args.push(builderDigest);
  const built = await new Promise<Result<void, string>>((resolve) => {
    const child = spawn(python, ['-m', builder.module, ...args], {
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
