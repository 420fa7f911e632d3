// Runner benchmark: plan a 1,000-variant sweep (11,001 stage nodes) and re-run a fully cached
// 100-variant sweep, in-process, with wall time and peak memory; then DVC (pinned, from PyPI,
// in its own venv) and dermatune side by side on an equivalent 20-variant pipeline (221 stages;
// DVC's first `repro` of 1,101 shell stages alone takes over ten minutes here): `dvc status`
// against `dermatune plan`, a no-op `dvc repro` against a cached `dermatune run`.
// Usage: node bench/runner.ts [--skip-dvc]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../runner/cli/commands.ts';
import { runCli } from '../runner/cli/main.ts';
import { projectRoot } from '../runner/project-root.ts';
import { syntheticPipeline, syntheticSpec } from './synthetic-pipeline.ts';

const DEPTH = 11;
const DVC_PIN = 'dvc==3.67.1';
const pipeline = syntheticPipeline(DEPTH);

async function cli(argv: string[], cwd: string) {
  let out = '';
  const code = await runCli(
    argv,
    {
      pipeline,
      version: 'bench',
      io: {
        stdout: (t) => {
          out += t;
        },
        stderr: (t) => {
          out += t;
        },
        env: {},
        cwd,
        isTTY: false,
      },
    },
    commands,
  );
  if (code !== 0) throw new Error(`dermatune ${argv.join(' ')} exited ${code}: ${out}`);
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

const dir = await mkdtemp(join(tmpdir(), 'dermatune-bench-'));
const big = join(dir, 'big.yaml');
await writeFile(big, syntheticSpec(10, 10, 10));
const small = join(dir, 'small.yaml');
await writeFile(small, syntheticSpec(4, 5, 5));
const DVC_VARIANTS = 20;
const tiny = join(dir, 'tiny.yaml');
await writeFile(tiny, syntheticSpec(4, 5, 1));

// Warm the module graph and ajv compilation once so the figures are steady-state.
await cli(['plan', small, '--json', '--store', join(dir, 'warm')], dir);

const rssBefore = process.memoryUsage().rss;
const plan = await timed(() =>
  cli(['plan', big, '--json', '--store', join(dir, 'store-big')], dir),
);
const nodes = JSON.parse(plan.value).nodes.length as number;
const peakPlanMb = process.resourceUsage().maxRSS / 1024;

await cli(['run', small, '--store', join(dir, 'store-small'), '--jobs', '2', '--no-tracking'], dir);
const rerun = await timed(() =>
  cli(['run', small, '--store', join(dir, 'store-small'), '--no-tracking'], dir),
);
if (!rerun.value.includes('0 stage(s) ran'))
  throw new Error(`cached re-run ran stages: ${rerun.value}`);

console.log('dermatune runner benchmark (this machine: 2 cores)');
console.log(
  `plan 1,000 variants / ${nodes} stage nodes: ${plan.ms.toFixed(0)} ms  (target <= 1000 ms)`,
);
console.log(
  `cached re-run of 100 variants / ${1 + 100 * DEPTH} nodes: ${rerun.ms.toFixed(0)} ms  (target <= 1000 ms)`,
);
console.log(
  `peak RSS: ${peakPlanMb.toFixed(0)} MB (RSS before planning ${(rssBefore / 1e6).toFixed(0)} MB)`,
);

if (process.argv.includes('--skip-dvc')) process.exit(0);

// DVC on the same shape at 20 variants: one shared stage, then 11 chained stages per variant.
const venv = join(projectRoot(), '.dermatune', 'bench-venv');
if (!existsSync(join(venv, 'bin', 'dvc'))) {
  console.log(`installing ${DVC_PIN} into ${venv} (first use)...`);
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', DVC_PIN], { stdio: 'inherit' });
}
const dvc = join(venv, 'bin', 'dvc');
const repo = join(dir, 'dvc');
await mkdir(repo);
execFileSync(dvc, ['init', '--no-scm', '-q'], { cwd: repo });
const stages: Record<string, unknown> = {
  source: { cmd: 'echo 1 > source.txt', outs: ['source.txt'] },
};
for (let v = 0; v < DVC_VARIANTS; v++) {
  for (let i = 0; i < DEPTH; i++) {
    const previous = i === 0 ? 'source.txt' : `v${v}-s${i - 1}.txt`;
    stages[`v${v}-s${i}`] = {
      cmd: `echo ${v} ${i} > v${v}-s${i}.txt`,
      deps: [previous],
      outs: [`v${v}-s${i}.txt`],
    };
  }
}
await writeFile(join(repo, 'dvc.yaml'), JSON.stringify({ stages }));
const first = spawnSync(dvc, ['repro', '-q'], { cwd: repo, encoding: 'utf8' });
if (first.status !== 0) throw new Error(`dvc repro failed: ${first.stderr}`);
const time = (args: string[]) => {
  const start = performance.now();
  const r = spawnSync(dvc, args, { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dvc ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - start;
};
const dvcStatus = time(['status', '-q']);
const dvcRepro = time(['repro', '-q']);
const tinyStore = join(dir, 'store-tiny');
await cli(['run', tiny, '--store', tinyStore, '--no-tracking'], dir);
const oursPlan = await timed(() => cli(['plan', tiny, '--json', '--store', tinyStore], dir));
const oursRerun = await timed(() => cli(['run', tiny, '--store', tinyStore, '--no-tracking'], dir));
const stagesCount = 1 + DVC_VARIANTS * DEPTH;
console.log(
  `\nDVC ${DVC_PIN.split('==')[1]} and dermatune on the same ${DVC_VARIANTS}-variant pipeline (${stagesCount} stages, all up to date):`,
);
console.log(
  `  dvc status:        ${dvcStatus.toFixed(0)} ms   dermatune plan:        ${oursPlan.ms.toFixed(0)} ms   DVC/dermatune ${(dvcStatus / oursPlan.ms).toFixed(1)}x`,
);
console.log(
  `  dvc repro (no-op): ${dvcRepro.toFixed(0)} ms   dermatune run (cached): ${oursRerun.ms.toFixed(0)} ms   DVC/dermatune ${(dvcRepro / oursRerun.ms).toFixed(1)}x`,
);
const asProcess = (args: string[]) => {
  const start = performance.now();
  const r = spawnSync(process.execPath, [join('bench', 'synthetic-cli.ts'), ...args], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`dermatune ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - start;
};
const planProcess = asProcess(['plan', tiny, '--json', '--store', tinyStore]);
const runProcess = asProcess(['run', tiny, '--store', tinyStore, '--no-tracking']);
console.log(
  '  (dermatune above is timed in-process after a warm-up; DVC includes Python start-up.)',
);
console.log(
  `  as processes too: dermatune plan ${planProcess.toFixed(0)} ms (DVC/dermatune ${(dvcStatus / planProcess).toFixed(1)}x), dermatune run ${runProcess.toFixed(0)} ms (${(dvcRepro / runProcess).toFixed(1)}x)`,
);
