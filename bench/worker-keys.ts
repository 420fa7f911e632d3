// How many of a spec's train and generate stages a change to one worker module reruns: the spec
// is planned (`dermatune plan --json`, each in a fresh process, so nothing is remembered), the
// module gets a trailing comment, the spec is planned again, and the keys are compared. The file
// is restored whatever happens. A worker job's key takes the digest of the modules that job
// imports (stages/model-worker/worker-fingerprint.ts), so a doctor-only change should rerun 0.
// Usage: node bench/worker-keys.ts [--spec experiments/paper.yaml] [--module doctor.py ...]

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../runner/project-root.ts';
import { WORKER_DIR } from '../stages/model-worker/worker-client.ts';

const { values } = parseArgs({
  options: {
    spec: { type: 'string', default: 'experiments/paper.yaml' },
    module: { type: 'string', multiple: true, default: ['doctor.py', 'memory.py', 'generate.py'] },
  },
});

interface PlannedNode {
  id: string;
  key: string;
}

function workerStageKeys(): Map<string, string> {
  const text = execFileSync(
    process.execPath,
    [join(projectRoot(), 'runner', 'cli', 'bin.js'), 'plan', values.spec, '--json'],
    { cwd: projectRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const nodes = (JSON.parse(text) as { nodes: PlannedNode[] }).nodes;
  return new Map(
    nodes.filter((n) => /^(train|generate)\[/.test(n.id)).map((n) => [n.id, n.key] as const),
  );
}

const before = workerStageKeys();
const count = (kind: string, ids: Iterable<string>) =>
  [...ids].filter((id) => id.startsWith(`${kind}[`)).length;
console.log(
  `${values.spec}: ${count('train', before.keys())} train and ${count('generate', before.keys())} generate stages`,
);
for (const module of values.module) {
  const path = join(WORKER_DIR, 'dermatune_worker', module);
  const original = readFileSync(path);
  let after: Map<string, string>;
  try {
    writeFileSync(path, Buffer.concat([original, Buffer.from('\n# bench/worker-keys.ts\n')]));
    after = workerStageKeys();
  } finally {
    writeFileSync(path, original);
  }
  const moved = [...before].filter(([id, key]) => after.get(id) !== key).map(([id]) => id);
  console.log(
    `a change to ${module.padEnd(12)} reruns ${count('train', moved)} train and ${count('generate', moved)} generate stages`,
  );
}
