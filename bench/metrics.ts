/**
 * BLEU + ROUGE on 7,650 pairs (the paper's 765 test answers times 10 models), TypeScript
 * against the Python references in the same run: times, the speed ratio, and whether the
 * values agree. Run: node bench/metrics.ts [--answers 765] [--models 10]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../runner/project-root.ts';
import { parityPython } from '../scripts/parity/parity-python.ts';
import { computeBleu } from '../stages/evaluate/bleu.ts';
import { computeRouge, ROUGE_TYPES, type RougeType } from '../stages/evaluate/rouge.ts';
import { computeSacreBleu } from '../stages/evaluate/sacrebleu.ts';

interface Pair {
  prediction: string;
  references: string[];
}
interface ModelValues {
  bleu: number;
  sacrebleu: number;
  rouge_mean: Record<RougeType, number>;
  rouge_per_example: Record<RougeType, number[]>;
}

const { values: args } = parseArgs({
  options: {
    answers: { type: 'string', default: '765' },
    models: { type: 'string', default: '10' },
  },
});
const python = await parityPython((line) => console.error(line));
const dir = mkdtempSync(join(tmpdir(), 'dermatune-bench-metrics-'));
try {
  const pairsFile = join(dir, 'pairs.json');
  const resultsFile = join(dir, 'results.json');
  const started = performance.now();
  const run = spawnSync(
    python,
    [
      join(projectRoot(), 'bench', 'metrics-reference.py'),
      ...['--answers', String(args.answers), '--models', String(args.models)],
      ...['--pairs-out', pairsFile, '--results-out', resultsFile],
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (run.status !== 0) throw new Error(`metrics-reference.py exited ${run.status}`);
  const pythonWallSeconds = (performance.now() - started) / 1000;
  const models = JSON.parse(readFileSync(pairsFile, 'utf8')) as Pair[][];
  const reference = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
    seconds: number;
    cpu_seconds: number;
    models: ModelValues[];
  };

  const computeAll = (): ModelValues[] =>
    models.map((pairs) => {
      const predictions = pairs.map((p) => p.prediction);
      const references = pairs.map((p) => p.references);
      const rouge = computeRouge(predictions, references);
      return {
        bleu: computeBleu(predictions, references).bleu,
        sacrebleu: computeSacreBleu(predictions, references).score,
        rouge_mean: rouge.mean,
        rouge_per_example: rouge.perExample,
      };
    });
  const [ours, cold] = timed(computeAll);
  const [, warm] = timed(computeAll);

  let maxDiff = 0;
  let compared = 0;
  let bitIdentical = 0;
  const note = (a: number, b: number) => {
    compared++;
    if (a === b) bitIdentical++;
    maxDiff = Math.max(maxDiff, Math.abs(a - b));
  };
  ours.forEach((mine, m) => {
    const theirs = reference.models[m] as ModelValues;
    note(mine.bleu, theirs.bleu);
    note(mine.sacrebleu, theirs.sacrebleu);
    for (const type of ROUGE_TYPES) {
      note(mine.rouge_mean[type], theirs.rouge_mean[type]);
      mine.rouge_per_example[type].forEach((v, i) => {
        note(v, theirs.rouge_per_example[type][i] as number);
      });
    }
  });

  const pairCount = models.reduce((n, pairs) => n + pairs.length, 0);
  console.log(`pairs: ${pairCount} (${models.length} models x ${args.answers} answers)`);
  const row = (what: string, wall: number, cpu: number) =>
    console.log(
      `${what.padEnd(40)} wall ${wall.toFixed(3).padStart(8)} s   cpu ${cpu.toFixed(3).padStart(8)} s`,
    );
  row('python references (compute only)', reference.seconds, reference.cpu_seconds);
  row('typescript, first run (cold JIT)', cold.wall, cold.cpu);
  row('typescript, second run', warm.wall, warm.cpu);
  console.log(
    `python process incl. start, imports, pair generation: ${pythonWallSeconds.toFixed(1)} s wall`,
  );
  console.log(
    `speed-up vs first run: ${(reference.seconds / cold.wall).toFixed(1)}x wall, ${(reference.cpu_seconds / cold.cpu).toFixed(1)}x cpu`,
  );
  console.log(
    `values compared: ${compared}; bit-identical: ${bitIdentical}; max |difference|: ${maxDiff.toExponential(2)}`,
  );
  console.log(maxDiff <= 1e-9 ? 'values: identical (within 1e-9)' : 'values: DIFFER');
  process.exitCode = maxDiff <= 1e-9 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Wall and CPU seconds (user + system, so GC threads count against us) of one call. */
function timed<T>(f: () => T): [T, { wall: number; cpu: number }] {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = f();
  const used = process.cpuUsage(cpu);
  return [value, { wall: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6 }];
}
