import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKER_DIR } from '../../stages/model-worker/worker-client.ts';
import { crashRandom } from '../crash-seed.ts';
import { workerReady } from './worker-fixture.ts';

/**
 * SIGKILL in the middle of a checkpoint write, with the worker's own writer
 * (`dermatune_worker/checkpoint.py`) driven by `fixtures/checkpoint_writer.py`: the next
 * start must find the previous checkpoint whole (every weight equal to its step, its metric
 * history complete), never a torn one, and carry on from there.
 */
const WRITER = join(process.cwd(), 'tests', 'model-worker', 'fixtures', 'checkpoint_writer.py');
const TRIALS = 10;

let python: string;

beforeAll(async () => {
  ({ python } = await workerReady());
}, 600_000);

function startWriter(
  root: string,
  digest?: string,
): {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
} {
  const child = spawn(python, [WRITER, root, ...(digest ? [digest] : [])], {
    env: { ...process.env, PYTHONPATH: WORKER_DIR },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout?.on('data', (chunk) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a kill during a checkpoint write', () => {
  it(`leaves the previous checkpoint usable (${TRIALS} kills)`, { timeout: 900_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'dermatune-ckpt-kill-'));
    const random = crashRandom('checkpoint-write-kill');
    let lastWritten = 0;
    let tornWrites = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const writer = startWriter(root);
      // Until it has written one of its own, then a moment more, mostly inside the next write.
      while (!writer.lines.some((l) => l.startsWith('wrote')) && writer.child.exitCode === null) {
        await sleep(10);
      }
      await sleep(random.next() * 150);
      writer.child.kill('SIGKILL');
      await writer.exited;
      // It resumed from the newest checkpoint the previous kill left, whole: the last one it
      // reported, or the next when the kill fell between its rename and its report.
      const resumed = Number(writer.lines.find((l) => l.startsWith('resumed '))?.slice(8));
      expect([lastWritten, lastWritten + 1], writer.lines.join('\n')).toContain(resumed);
      const wrote = writer.lines.filter((l) => l.startsWith('wrote'));
      lastWritten = Number(wrote.at(-1)?.split(' ')[1]);
      const left = await readdir(join(root, 'train'));
      if (left.some((name) => name.startsWith('.step-'))) tornWrites++;
      // The last two are kept; a kill between a new checkpoint's rename and the pruning of the
      // oldest leaves one more, which the next write prunes.
      expect(left.filter((name) => name.startsWith('step-')).length).toBeLessThanOrEqual(3);
    }
    const last = startWriter(root);
    while (!last.lines.some((l) => l.startsWith('resumed')) && last.child.exitCode === null) {
      await sleep(10);
    }
    last.child.kill('SIGKILL');
    await last.exited;
    expect([`resumed ${lastWritten}`, `resumed ${lastWritten + 1}`]).toContain(last.lines[0]);
    // Another job's checkpoints (other settings) are passed over, never resumed.
    const other = startWriter(root, 'another-job');
    while (!other.lines.some((l) => l.startsWith('resumed')) && other.child.exitCode === null) {
      await sleep(10);
    }
    other.child.kill('SIGKILL');
    await other.exited;
    expect(other.lines).toContain('resumed 0');
    expect(other.lines.some((l) => l.startsWith('warning checkpoint-foreign'))).toBe(true);
    // The kills did land inside writes (a temporary folder left behind), not only between them.
    expect(tornWrites).toBeGreaterThan(0);
  });
});
