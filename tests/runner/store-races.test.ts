import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock } from '../../runner/store-lock.ts';

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
const FIXTURES = join(process.cwd(), 'tests', 'runner', 'fixtures');

function start(script: string, args: string[], cwd: string) {
  const child: ChildProcess = spawn(NODE, [join(FIXTURES, script), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
  return { child, done };
}

/** A lock as a process that died holding it would leave it (its pid no longer exists). */
function deadOwnersLock(token: string): string {
  return JSON.stringify({
    pid: 2 ** 22 + 17,
    host: hostname(),
    command: 'killed',
    since: 'then',
    token,
  });
}

describe('gc beside a run', () => {
  it('never deletes what a run committed while gc was planning', async () => {
    const seed = Number(process.env.DERMATUNE_RACE_SEED ?? Date.now() % 100_000);
    const trials = 3;
    process.stderr.write(`gc race: seed ${seed}, ${trials} trials\n`);
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-gc-race-'));
    const store = join(dir, 'store');
    // A named spec big enough that gc spends a while planning it: the window in which a run
    // may start, commit and finish.
    const values = Array.from({ length: 2000 }, (_, i) => i + 100).join(', ');
    await writeFile(join(dir, 'big.yaml'), `name: big\nsweep:\n  model.factor: [${values}]\n`);
    await writeFile(join(dir, 'work.yaml'), 'name: work\n');
    let state = seed;
    let bothSucceeded = 0;
    for (let trial = 0; trial < trials; trial++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      const delay = state % 150;
      const gc = start('test-cli.ts', ['gc', 'big.yaml', '--store', store], dir);
      await new Promise((resolve) => setTimeout(resolve, delay));
      // New settings each trial: new keys, a new sweep history.
      const factor = `model.factor=${trial + 10}`;
      const run = start(
        'test-cli.ts',
        ['run', 'work.yaml', '--store', store, '--set', factor],
        dir,
      );
      const [gcDone, runDone] = await Promise.all([gc.done, run.done]);
      expect([0, 2], gcDone.output).toContain(gcDone.code);
      if (runDone.code !== 0) continue;
      if (gcDone.code === 0) bothSucceeded++;
      const plan = start(
        'test-cli.ts',
        ['plan', 'work.yaml', '--store', store, '--json', '--set', factor],
        dir,
      );
      const planned = await plan.done;
      const states = (JSON.parse(planned.output) as { nodes: { state: string }[] }).nodes.map(
        (n) => n.state,
      );
      expect(states, `seed ${seed}, trial ${trial}, delay ${delay} ms`).toEqual([
        'cached',
        'cached',
        'cached',
      ]);
    }
    // Not vacuous: gc did collect beside a finished run.
    expect(bothSucceeded, `seed ${seed}`).toBeGreaterThan(0);
  }, 120_000);
});

describe('the store lock under contention', () => {
  it('lets exactly one of many contenders hold it, also while they all take over a dead owner', async () => {
    const seed = Number(process.env.DERMATUNE_RACE_SEED ?? Date.now() % 100_000);
    const contenders = 6;
    const trials = 25;
    process.stderr.write(`lock race: seed ${seed}, ${contenders} contenders, ${trials} trials\n`);
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-lock-race-'));
    for (let trial = 0; trial < trials; trial++) {
      await mkdir(join(dir, `trial-${trial}`));
      await writeFile(join(dir, `trial-${trial}`, 'store.lock'), deadOwnersLock(`dead${trial}`));
    }
    const runs = Array.from({ length: contenders }, (_, id) =>
      start(
        'lock-contender.ts',
        [dir, String(id), String(contenders), String(trials), String(seed)],
        dir,
      ),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });
    let overlaps = 0;
    for (let trial = 0; trial < trials; trial++) {
      const lines = (await readFile(join(dir, `trial-${trial}`, 'log'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(2 * contenders);
      // Held by one at a time: every "enter x" is followed by "leave x".
      for (let i = 0; i < lines.length; i += 2) {
        if (lines[i]?.replace('enter', 'leave') !== lines[i + 1]) overlaps++;
      }
    }
    expect(overlaps, `seed ${seed}`).toBe(0);
  }, 120_000);

  it('release removes only its own lock, never one another process took over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-lock-'));
    const path = join(dir, 'store.lock');
    const held = await acquireStoreLock(path);
    if (!held.ok) throw new Error(held.error.message);
    // As if this process had been declared dead and its lock taken over by another.
    const theirs = deadOwnersLock('someone-else');
    await writeFile(path, theirs);
    await held.value.release();
    expect(await readFile(path, 'utf8')).toBe(theirs);
  });
});
