// The CLI as a process is the user's unit of latency. Times `dermatune --version`, `validate`
// and `plan` of the paper's spec, and a fully cached demo (`run` + `table`, what a second
// `npm start` does) as processes, each the median of several runs after a warm-up that fills
// Node's compile cache. Targets: validate and plan within 150 ms, the cached demo within 1 s.
// (The comparison with `dvc status` at 221 stages is in bench/runner.ts.)
// Usage: node bench/cli-startup.ts [--store <a finished demo store>] [--runs N]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'artifacts' },
    runs: { type: 'string', default: '7' },
  },
});
const runs = Number(values.runs);
const bin = join('runner', 'cli', 'bin.js');
const env = { ...process.env, CI: 'true' };

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function timeProcess(commands: string[][]): number {
  const once = () => {
    const started = performance.now();
    for (const args of commands) {
      const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(`dermatune ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    }
    return performance.now() - started;
  };
  once(); // warm-up: fills the compile cache and the OS file cache
  return median(Array.from({ length: runs }, once));
}

const rows: [string, number, number][] = [
  ['dermatune --version', timeProcess([['--version']]), Number.NaN],
  ['validate experiments/paper.yaml', timeProcess([['validate', 'experiments/paper.yaml']]), 150],
  ['plan experiments/paper.yaml', timeProcess([['plan', 'experiments/paper.yaml']]), 150],
];
const demoStore = values.store as string;
// Only a store that holds the whole demo times a cached run; anything else would run stages.
const demoPlan = spawnSync(
  process.execPath,
  [bin, 'plan', 'experiments/demo.yaml', '--store', demoStore, '--json'],
  { env, encoding: 'utf8' },
);
const demoCached =
  demoPlan.status === 0 &&
  (JSON.parse(demoPlan.stdout) as { nodes: { state: string }[] }).nodes.every(
    (node) => node.state === 'cached',
  );
if (demoCached) {
  const store = ['--store', demoStore];
  rows.push([
    'cached demo: run + table',
    timeProcess([
      ['run', 'experiments/demo.yaml', ...store],
      ['table', 'experiments/demo.yaml', ...store],
    ]),
    1000,
  ]);
} else {
  console.log(
    `(${demoStore} does not hold the whole demo: run \`npm start\` first to time the cached demo)`,
  );
}
console.log(`CLI start-up, median of ${runs} runs as processes (Node ${process.version}):`);
for (const [what, ms, target] of rows) {
  const verdict = Number.isNaN(target)
    ? ''
    : `  target ${target} ms: ${ms <= target ? 'met' : 'missed'}`;
  console.log(`  ${what.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms${verdict}`);
}
