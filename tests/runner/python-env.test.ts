import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensurePythonEnv } from '../../runner/python-env.ts';

const saved = process.env.DERMATUNE_VENV;
afterEach(() => {
  if (saved === undefined) delete process.env.DERMATUNE_VENV;
  else process.env.DERMATUNE_VENV = saved;
});

describe('the project Python environment', () => {
  it('finishes a venv whose creation was cut short instead of trusting its bin/python', async () => {
    const venv = join(await mkdtemp(join(tmpdir(), 'dermatune-venv-')), 'venv');
    // What another process's half-done `python -m venv` leaves: an interpreter, no pip yet.
    execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
    expect(spawnSync(join(venv, 'bin', 'python'), ['-m', 'pip', '--version']).status).not.toBe(0);
    process.env.DERMATUNE_VENV = venv;
    const env = await ensurePythonEnv([]);
    expect(env.ok).toBe(true);
    expect(spawnSync(join(venv, 'bin', 'python'), ['-m', 'pip', '--version']).status).toBe(0);
    expect(existsSync(join(venv, 'dermatune-installed.json'))).toBe(true);
  }, 300_000);
});
