import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from './canonical-json.ts';
import { projectRoot } from './project-root.ts';
import { lockResource } from './resource-lock.ts';
import { fail, ok, type Result } from './result.ts';

/**
 * The project's one Python virtual environment (`.dermatune/venv`), created and filled on first
 * use from the pinned requirements files of whoever needs it (the model worker, the MLflow
 * server, the encoder export). Idempotent: a stamp records which requirement files, by content,
 * are installed, so a second call costs one file read.
 */
export interface PythonEnv {
  /** Absolute path of the venv's interpreter. */
  python: string;
  /** The venv's bin folder (for console scripts such as `mlflow`). */
  binDir: string;
}

export interface PythonEnvFailure {
  reason: 'no-python' | 'install-failed';
  message: string;
}

/** torch must come from the local CPU wheel before anything can pull a multi-GB CUDA build. */
const TORCH_PIN = 'torch==2.13.0';

export function venvDir(): string {
  return process.env.DERMATUNE_VENV ?? join(projectRoot(), '.dermatune', 'venv');
}

/**
 * `dir` names another venv for a tool whose pins cannot live beside the project's (a reference
 * implementation that needs transformers 4.x); it is made and stamped the same way.
 */
export async function ensurePythonEnv(
  requirementFiles: readonly string[],
  log: (line: string) => void = () => {},
  dir: string = venvDir(),
): Promise<Result<PythonEnv, PythonEnvFailure>> {
  await mkdir(join(dir, '..'), { recursive: true });
  const env: PythonEnv = { python: join(dir, 'bin', 'python'), binDir: join(dir, 'bin') };
  const wanted = await Promise.all(
    requirementFiles.map(async (file) => ({ file, digest: sha256Hex(await readFile(file)) })),
  );
  if (await stampCovers(dir, wanted)) return ok(env);

  // Serialise installers across processes (parallel test workers, a test and a run).
  // A caller whose files are in already still waits here while another installs its own: on a
  // 2-core machine the local LLM then gets its model after the MLflow server's packages, which
  // measured faster than letting it start beside them (two installers and llama.cpp's two threads
  // on two cores: the run took 9 min 48 s against 9 min 41 s, with 58 s more CPU time).
  const release = await lockResource(dir, {
    retries: { retries: 600, minTimeout: 1000, maxTimeout: 1000 },
    stale: 15 * 60_000,
  });
  try {
    if (await stampCovers(dir, wanted)) return ok(env);
    // No stamp means no finished venv: never created, or its creation was cut short (then
    // `venv` completes it, pip included).
    if (!existsSync(stampPath(dir))) {
      const base = process.env.DERMATUNE_PYTHON ?? 'python3';
      log(`creating the Python environment in ${dir}`);
      const created = await runLogged(base, ['-m', 'venv', dir], log);
      if (!created.ok) {
        return fail({
          reason: 'no-python',
          message: `could not create a virtual environment with ${base}: ${created.error}`,
        });
      }
      await runLogged(env.python, ['-m', 'pip', 'install', '-q', '--upgrade', 'pip'], log);
      await writeFile(stampPath(dir), JSON.stringify({}, null, 2));
    }
    const installed = await readStamp(dir);
    for (const { file, digest } of wanted) {
      if (installed[file] === digest) continue;
      const text = await readFile(file, 'utf8');
      if (/\btorch\b/.test(text)) {
        const torch = await runLogged(env.python, ['-m', 'pip', 'install', '-q', TORCH_PIN], log);
        if (!torch.ok) return fail({ reason: 'install-failed', message: torch.error });
      }
      log(`installing ${file}`);
      const done = await runLogged(env.python, ['-m', 'pip', 'install', '-q', '-r', file], log);
      if (!done.ok) {
        return fail({ reason: 'install-failed', message: `pip install -r ${file}: ${done.error}` });
      }
      installed[file] = digest;
      await writeFile(stampPath(dir), JSON.stringify(installed, null, 2));
    }
    return ok(env);
  } finally {
    await release();
  }
}

function stampPath(dir: string): string {
  return join(dir, 'dermatune-installed.json');
}

async function readStamp(dir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(stampPath(dir), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/**
 * Whether the venv is finished and holds every wanted requirement file. The stamp is written
 * only after the venv and pip are in place: a `bin/python` alone may belong to a venv another
 * process is still creating.
 */
async function stampCovers(
  dir: string,
  wanted: readonly { file: string; digest: string }[],
): Promise<boolean> {
  if (!existsSync(stampPath(dir))) return false;
  const stamp = await readStamp(dir);
  return wanted.every(({ file, digest }) => stamp[file] === digest);
}

/**
 * Runs a command from the venv (pip, `ray start`), its output kept out of the terminal and its
 * tail in the failure message.
 */
export function runLogged(
  command: string,
  args: string[],
  log: (line: string) => void,
  env?: Record<string, string>,
): Promise<Result<void, string>> {
  log(`$ ${[command, ...args].join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    let tail = '';
    // pip's own chatter stays out of the user's terminal; its tail explains a failure.
    const collect = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolve(fail(error.message)));
    child.on('close', (code) =>
      resolve(code === 0 ? ok(undefined) : fail(`exit ${code}: ${tail.trim()}`)),
    );
  });
}
