/**
 * Regenerates tests/fixtures/parity/golden.json from the Python reference implementations
 * (see make-golden.py). Run: node scripts/parity/make-golden.ts
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import { parityPython } from './parity-python.ts';

const python = await parityPython((line) => console.error(line));
const out = join(projectRoot(), 'tests', 'fixtures', 'parity', 'golden.json');
const run = spawnSync(
  python,
  [join(projectRoot(), 'scripts', 'parity', 'make-golden.py'), '--out', out],
  {
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
