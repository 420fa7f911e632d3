// Runs every benchmark in turn and prints their figures. Each one compares against its named
// reference in the same run (DVC, the Python metric packages, sentence-transformers, a plain
// PEFT script, a rate-limited server, the local executor). Usage: npm run bench [-- name ...]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const benches = [
  'runner',
  'cli-startup',
  'metrics',
  'statistics',
  'encoders',
  'hub-encoder-download',
  'llm',
  'llm-batching',
  'llm-local',
  'worker',
  'worker-startup',
  'data-reader',
  'data-sources',
  'shard-downloads',
  'tracking',
  'ray-executor',
  's3-storage',
  'fuzz',
  'checkpoint',
];
const wanted = process.argv.slice(2);
let failed = 0;
for (const name of benches) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const file = join('bench', `${name}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n=== bench/${name}.ts ===`);
  const result = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
