import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkerFixture, workerReady } from './worker-fixture.ts';

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
const PARENT = join(process.cwd(), 'tests', 'model-worker', 'fixtures', 'worker-parent.ts');

/** Whether the process has mapped torch's library, i.e. got on with its job. */
async function loadedTorch(pid: number): Promise<boolean> {
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
  return maps.includes('libtorch');
}

describe.runIf(process.platform === 'linux')('a worker whose runner was killed', () => {
  it('exits at once instead of carrying on with its job', async () => {
    const { python, modelsDir } = await workerReady();
    const fixture = await makeWorkerFixture();
    const parent = spawn(NODE, [PARENT, python, join(fixture.dir, 'orphan.log'), modelsDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (d) => {
      out += d;
    });
    await new Promise((resolve) => parent.on('exit', resolve));
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    // The doctor job imports torch first thing; a worker that outlives its parent gets there.
    let carriedOn = false;
    while (
      existsSync(`/proc/${pid}`) &&
      !(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).includes(') Z')
    ) {
      if (await loadedTorch(pid)) carriedOn = true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(carriedOn).toBe(false);
  }, 120_000);
});
