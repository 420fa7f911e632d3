import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
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

  it('lets a caller whose needs are installed go on while another installer holds the lock', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dermatune-venv-'));
    const venv = join(root, 'venv');
    expect((await ensurePythonEnv([], () => {}, venv)).ok).toBe(true);
    const extra = join(root, 'extra-requirements.txt');
    await writeFile(extra, '# nothing to install\n');
    // Another process installing something else (the MLflow server's packages, say).
    const release = await lockfile.lock(root, { lockfilePath: `${venv}.lock` });
    try {
      const started = Date.now();
      expect((await ensurePythonEnv([], () => {}, venv)).ok).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      // One that needs a file not yet installed waits for the lock.
      let settled = false;
      const waiting = ensurePythonEnv([extra], () => {}, venv).finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(settled).toBe(false);
      await release();
      expect((await waiting).ok).toBe(true);
    } finally {
      await release().catch(() => undefined);
    }
    const stamp = JSON.parse(await readFile(join(venv, 'dermatune-installed.json'), 'utf8'));
    expect(Object.keys(stamp)).toEqual([extra]);
  }, 300_000);
});
