import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { crashRandom } from '../crash-seed.ts';

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
const CLI = join(process.cwd(), 'tests', 'runner', 'fixtures', 'test-cli.ts');
const SPEC = `name: crashy
data:
  items: 6
model:
  delay_ms: 40
sweep:
  name: "f{model.factor}"
  model.factor: [2, 3, 4]
`;

function start(args: string[], cwd: string): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(NODE, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done };
}

/** Every stored output file, by node id, so two stores can be compared whatever their paths. */
async function outputsOf(
  store: string,
  cwd: string,
  spec: string,
): Promise<Record<string, string>> {
  const planned = start(['plan', spec, '--json', '--store', store], cwd);
  let json = '';
  planned.child.stdout?.on('data', (d) => {
    json += d;
  });
  await planned.done;
  const nodes = (JSON.parse(json) as { nodes: { id: string; key: string; state: string }[] }).nodes;
  const result: Record<string, string> = {};
  for (const node of nodes) {
    expect(node.state).toBe('cached');
    const dir = join(store, 'stages', node.key, 'output');
    for (const file of await readdir(dir))
      result[`${node.id}/${file}`] = await readFile(join(dir, file), 'utf8');
  }
  return result;
}

async function expectConsistent(storeDir: string) {
  const store = new ArtifactStore(storeDir);
  for (const key of await store.storedKeys()) {
    expect((await store.lookup(key)).state).toBe('present');
  }
  expect(existsSync(store.lockPath)).toBe(false);
}

describe('a run killed at any moment', () => {
  it('resumes with SIGKILL at random points and ends with the same outputs as an uninterrupted run (20 trials)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-crash-'));
    const spec = join(dir, 'spec.yaml');
    await writeFile(spec, SPEC);
    const reference = join(dir, 'reference');
    expect(await start(['run', spec, '--store', reference], dir).done).toBe(0);
    const expected = await outputsOf(reference, dir, spec);
    expect(Object.keys(expected)).toHaveLength(7);

    const random = crashRandom('crash-resume');
    let trialsInterrupted = 0;
    for (let trial = 0; trial < 20; trial++) {
      const store = join(dir, `trial-${trial}`);
      // Kill one or two runs at random moments (trying again when a run beat the kill),
      // then let a run finish.
      const kills = 1 + (trial % 2);
      let killed = 0;
      for (let attempt = 0; killed < kills && attempt < 10; attempt++) {
        const run = start(['run', spec, '--store', store], dir);
        await new Promise((r) => setTimeout(r, 100 + random.next() * 800));
        if (run.child.exitCode === null) {
          run.child.kill('SIGKILL');
          killed++;
        }
        await run.done;
        // A run that beat its first kill leaves nothing to interrupt: start the trial afresh.
        if (killed === 0) await rm(store, { recursive: true, force: true });
      }
      if (killed > 0) trialsInterrupted++;
      expect(await start(['run', spec, '--store', store], dir).done).toBe(0);
      expect(await outputsOf(store, dir, spec)).toEqual(expected);
      await expectConsistent(store);
    }
    // The trials must really have interrupted runs, or they prove nothing.
    expect(trialsInterrupted).toBe(20);
  }, 300_000);

  it('stops cleanly on SIGTERM with exit 130, and the next run finishes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-term-'));
    const spec = join(dir, 'spec.yaml');
    await writeFile(spec, SPEC.replace('delay_ms: 40', 'delay_ms: 200'));
    const store = join(dir, 'store');
    const run = start(['run', spec, '--store', store], dir);
    // Signal once stages are running, so the handler is installed and there is work to stop.
    await new Promise<void>((resolve) => {
      let seen = '';
      run.child.stdout?.on('data', (chunk) => {
        seen += chunk;
        if (seen.includes('start   scale')) resolve();
      });
    });
    run.child.kill('SIGTERM');
    expect(await run.done).toBe(130);
    await expectConsistent(store);
    expect(existsSync(join(store, 'staging')) ? await readdir(join(store, 'staging')) : []).toEqual(
      [],
    );
    expect(await start(['run', spec, '--store', store], dir).done).toBe(0);
  }, 120_000);
});
