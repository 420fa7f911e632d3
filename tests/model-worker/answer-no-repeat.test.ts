import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKER_DIR } from '../../stages/model-worker/worker-client.ts';
import { workerReady } from './worker-fixture.ts';

let python: string;

beforeAll(async () => {
  ({ python } = await workerReady());
}, 600_000);

describe("generate.no_repeat_ngram_size: the answer's own n-grams only", () => {
  it('bans a token that would repeat an n-gram of the answer, never one of the prompt', () => {
    const run = spawnSync(python, [join(import.meta.dirname, 'no_repeat_check.py')], {
      // The script sits in tests/, so the worker's package comes from PYTHONPATH.
      env: { ...process.env, PYTHONPATH: WORKER_DIR },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      banned: number[][];
      plain_banned: number[];
    };
    // Row 0 ends "7 8 7": 8 would repeat (7, 8). Row 1 ends "9 9 9": 9 would repeat (9, 9).
    expect(seen.banned).toEqual([[8], [9]]);
    // transformers' own processor counts the prompt: it bans 6 as the first answer token after
    // the prompt "5 6 5", so an answer could not echo its question.
    expect(seen.plain_banned).toEqual([6]);
  });
});
