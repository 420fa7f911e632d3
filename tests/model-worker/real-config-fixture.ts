import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { lockResource } from '../../runner/resource-lock.ts';
import { ensureLocalModel } from '../../stages/llm/local-model.ts';
import { modelsDir } from '../../stages/model-worker/stand-in-model.ts';
import { workerReady } from './worker-fixture.ts';

/**
 * SmolVLM's real configuration with its layers cut down (`scripts/smolvlm-fixture/`), built on
 * first use into the models folder from the SmolLM2 GGUF the project installs for its local
 * LLM, and rebuilt only when the builder script changes.
 */
export const BUILDER = join(projectRoot(), 'scripts', 'smolvlm-fixture', 'smolvlm_real_config.py');

export type RealConfigVariant = 'base' | 'instruct';

export function realConfigName(variant: RealConfigVariant): string {
  return `smolvlm-${variant}-real-config`;
}

export async function realConfigModels(): Promise<{ python: string; modelsDir: string }> {
  const { python } = await workerReady();
  const gguf = await ensureLocalModel('smollm2-135m-instruct-q4_1');
  if (!gguf.ok) throw new Error(gguf.error.message);
  const dir = modelsDir();
  await mkdir(dir, { recursive: true });
  const digest = sha256Hex(await readFile(BUILDER));
  for (const variant of ['base', 'instruct'] as const) {
    const out = join(dir, realConfigName(variant));
    if ((await builtDigest(out)) === digest) continue;
    const release = await lockResource(out, {
      retries: { retries: 300, minTimeout: 500, maxTimeout: 1000 },
      stale: 5 * 60_000,
    });
    try {
      if ((await builtDigest(out)) !== digest) {
        await runPython(python, [BUILDER, 'build', out, variant, gguf.value]);
      }
    } finally {
      await release();
    }
  }
  return { python, modelsDir: dir };
}

/** The builder's `census` of the full-size configuration (meta device). */
export async function fullSizeCensus(python: string): Promise<FullSizeCensus> {
  return JSON.parse(await runPython(python, [BUILDER, 'census'])) as FullSizeCensus;
}

export interface FullSizeCensus {
  parameters: number;
  towers: Record<'vision_model' | 'connector' | 'text_model' | 'lm_head', number>;
  lora: Record<
    'all' | 'text_model',
    { modules: number; vision_model: number; text_model: number; trainable: number }
  >;
}

async function builtDigest(dir: string): Promise<string | undefined> {
  try {
    return (
      JSON.parse(await readFile(join(dir, 'real-config.json'), 'utf8')) as {
        builder_digest?: string;
      }
    ).builder_digest;
  } catch {
    return undefined;
  }
}

function runPython(python: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out.trim().split('\n').at(-1) ?? '')
        : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}
