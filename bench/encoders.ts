// Encoder benchmark: sentences per second of our sentence encoder (onnxruntime-node) against
// sentence-transformers (torch) on the CPU, same model, same texts, same run, runs interleaved
// so both see the same machine load. Target: at least on par. Wall time swings with the load
// of a shared machine, so CPU time (all threads of each process) is printed beside it.
// Usage: node bench/encoders.ts [--texts N] [--repeats R]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../runner/project-root.ts';
import { ensurePythonEnv } from '../runner/python-env.ts';
import { parityPairs } from '../scripts/encoders/parity-pairs.ts';
import { DEFAULT_SENTENCE_ENCODER } from '../stages/evaluate/encoders/encoder-catalog.ts';
import { ensureEncoderModel } from '../stages/evaluate/encoders/ensure-encoder-model.ts';
import { createSentenceEncoder } from '../stages/evaluate/encoders/sentence-encoder.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const TEXTS = option('texts', 500);
const REPEATS = option('repeats', 5);
const root = projectRoot();

// Answer-like texts (the accuracy metric embeds an answer and four options per question);
// the long edge cases are left out so the figure reflects typical answers.
const pool = parityPairs(TEXTS, 7)
  .flatMap((p) => [p.reference, p.candidate])
  .filter((t) => t.length < 400);
const texts = Array.from({ length: TEXTS }, (_, k) => pool[k % pool.length] ?? '');

const setupStarted = Date.now();
const files = await ensureEncoderModel(DEFAULT_SENTENCE_ENCODER, { log: console.log });
if (!files.ok) throw new Error(files.error.message);
const env = await ensurePythonEnv([
  join(root, 'stages/evaluate/encoders/requirements.txt'),
  join(root, 'scripts/encoders/requirements.txt'),
]);
if (!env.ok) throw new Error(env.error.message);
console.log(`setup (export or reuse, venv): ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

const created = await createSentenceEncoder();
if (!created.ok) throw new Error(created.error.message);
const encoder = created.value;
await encoder.embed(texts.slice(0, 64));

const work = mkdtempSync(join(tmpdir(), 'dermatune-bench-encoders-'));
const ours: number[] = [];
const oursCpu: number[] = [];
const theirs: number[] = [];
const theirsCpu: number[] = [];
let pythonThreads = 0;
try {
  const textsFile = join(work, 'texts.json');
  writeFileSync(textsFile, JSON.stringify(texts));
  for (let round = 0; round < REPEATS; round++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    await encoder.embed(texts);
    ours.push((performance.now() - started) / 1000);
    const cpu = process.cpuUsage(cpuStarted);
    oursCpu.push((cpu.user + cpu.system) / 1e6);

    const run = spawnSync(
      env.value.python,
      [
        join(root, 'scripts/encoders/bench-sentence-transformers.py'),
        '--model',
        files.value.manifest.source,
        '--texts',
        textsFile,
        '--repeats',
        '1',
      ],
      { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1' } },
    );
    if (run.status !== 0) throw new Error(`sentence-transformers bench failed: ${run.stderr}`);
    const line = run.stdout.trim().split('\n').at(-1) ?? '{}';
    const result = JSON.parse(line) as { seconds: number[]; cpuSeconds: number[]; threads: number };
    theirs.push(...result.seconds);
    theirsCpu.push(...result.cpuSeconds);
    pythonThreads = result.threads;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await encoder.release();
}

const best = (xs: number[]) => Math.min(...xs);
const rate = (seconds: number) => TEXTS / seconds;
const rounds = (xs: number[]) => xs.map((s) => rate(s).toFixed(1)).join(', ');
console.log(`\nencoder throughput, ${TEXTS} texts, ${REPEATS} interleaved rounds, best round:`);
console.log(`  machine: ${availableParallelism()} cores`);
console.log(`  dermatune (onnxruntime-node, ${DEFAULT_SENTENCE_ENCODER}):`);
console.log(`    ${rate(best(ours)).toFixed(1)} sentences/s wall (rounds: ${rounds(ours)})`);
console.log(
  `    ${rate(best(oursCpu)).toFixed(1)} sentences per CPU-second (rounds: ${rounds(oursCpu)})`,
);
console.log(`  sentence-transformers (torch, ${pythonThreads} threads):`);
console.log(`    ${rate(best(theirs)).toFixed(1)} sentences/s wall (rounds: ${rounds(theirs)})`);
console.log(
  `    ${rate(best(theirsCpu)).toFixed(1)} sentences per CPU-second (rounds: ${rounds(theirsCpu)})`,
);
console.log(
  `  ratio ours/theirs: wall ${(best(theirs) / best(ours)).toFixed(2)}x, ` +
    `CPU ${(best(theirsCpu) / best(oursCpu)).toFixed(2)}x (>= 1 means at least on par)`,
);
