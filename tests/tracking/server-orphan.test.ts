import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the embedded MLflow server', () => {
  it('goes down with a runner killed by SIGKILL instead of living on as an orphan', async () => {
    const store = await mkdtemp(join(tmpdir(), 'dermatune-orphan-'));
    const child = spawn(process.execPath, ['tests/tracking/server-then-die.ts', store], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let url = '';
    child.stdout.on('data', (chunk: Buffer) => {
      url += chunk.toString();
    });
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    url = url.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const deadline = Date.now() + 30_000;
    let up = true;
    while (up && Date.now() < deadline) {
      up = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) await new Promise((r) => setTimeout(r, 500));
    }
    expect(up).toBe(false);
  }, 180_000);
});
