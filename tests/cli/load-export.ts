import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { venvDir } from '../../runner/python-env.ts';

const LOADER = join(import.meta.dirname, 'fixtures', 'load_export.py');

export interface LoadedExport {
  answers: string[];
  /** Interpreter start to model, processor and generation config loaded. */
  load_seconds: number;
  answer_seconds: number[];
}

/** Runs load_export.py in a fresh interpreter with nothing of dermatune on its path. */
export function loadExport(dir: string, request: Record<string, unknown>): LoadedExport {
  const file = join(dir, `load-${String(request.mode)}.json`);
  writeFileSync(file, JSON.stringify(request));
  const python = join(venvDir(), 'bin', 'python');
  const run = spawnSync(python, [LOADER, file], {
    encoding: 'utf8',
    // A fresh interpreter with nothing of dermatune on its path.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HF_HUB_OFFLINE: '1',
      OMP_NUM_THREADS: '1',
    },
  });
  if (run.status !== 0) throw new Error(`load_export.py failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as LoadedExport;
}
