import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { type LocalRayHead, startLocalRayHead } from '../../runner/executors/ray/local-head.ts';
import { WORKER_REQUIREMENTS } from '../../stages/model-worker/worker-client.ts';
import { startCli } from './ray-fixture.ts';

/**
 * A Ray job lost half-way (`ray job stop` from outside, as a lost node looks to the runner) is
 * submitted again and resumes from the checkpoint its predecessor left on shared storage, not
 * from step 0. The checkpoint pipeline (fixture data, the real train and generate stages) keeps
 * the LLM data chain out of it.
 */
const CLI = join(process.cwd(), 'tests', 'model-worker', 'fixtures', 'checkpoint-cli.ts');
const SPEC = `name: ray-checkpoint
seed: 5
model: { base: tiny-smolvlm-standin }
data: { supervision: qa_caption }
train: { epochs: 30, batch_size: 1, grad_accum: 2, learning_rate: 0.01, image_size: 64, max_seq_length: 256, device: cpu, checkpoint_every: 2 }
generate: { max_new_tokens: 4, image_size: 64, batch_size: 8 }
`;

let work: string;
let head: LocalRayHead;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dermatune-ray-ckpt-'));
  const started = await startLocalRayHead({
    cpus: 4,
    tempDir: join('/tmp', `dtrayc-${process.pid}`),
    requirements: [WORKER_REQUIREMENTS],
  });
  if (!started.ok) throw new Error(started.error);
  head = started.value;
}, 2_700_000);

afterAll(async () => {
  await head?.stop();
  await rm(join('/tmp', `dtrayc-${process.pid}`), { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('checkpoints of Ray jobs', { timeout: 900_000 }, () => {
  it('a resubmitted training resumes from the lost job’s checkpoint on shared storage', async () => {
    const spec = join(work, 'spec.yaml');
    await writeFile(spec, SPEC);
    const shared = join(work, 'shared');
    const store = join(work, 'store');
    const args = [
      ...['run', spec, '--executor', 'ray', '--ray-address', head.address],
      ...['--ray-storage', shared, '--set', 'executor.ray.use_gpus=false'],
      ...['--store', store, '--no-tracking', '--json'],
    ];
    const run = startCli(args, { DERMATUNE_OFFLINE: '1' }, CLI);
    const id = /submitted Ray job (dermatune-[\w-]+)/.exec(
      await run.waitFor(/submitted Ray job/),
    )?.[1] as string;
    // Past a checkpoint (every 2 steps), stop the job from outside.
    await run.waitFor(/"event":"node-metric".*train\/loss.*"step":([3-9]|\d\d)/);
    await promisify(execFile)(
      head.python,
      [head.rayCli, 'job', 'stop', '--address', head.address, '--no-wait', id],
      { env: { ...process.env, ...head.env } },
    );
    expect(await run.done, run.lines.slice(-20).join('\n')).toBe(0);
    const text = run.lines.join('\n');
    expect(text).toMatch(/was lost \(STOPPED.*submitting it again \(resubmission 1 of 1\)/);
    const resumed = /resumed from the checkpoint at step (\d+)\/240/.exec(text);
    expect(resumed, text.slice(-3000)).not.toBeNull();
    expect(Number(resumed?.[1])).toBeGreaterThanOrEqual(2);
    // The stored training says so too, and its checkpoints on shared storage are spent.
    const keys = await new ArtifactStore(store).storedKeys();
    const stats = [];
    for (const key of keys) {
      const entry = await new ArtifactStore(store).lookup(key);
      if (entry.state === 'present' && entry.manifest.record.kind === 'train') {
        stats.push(entry.manifest.summary.stats);
      }
    }
    expect(stats.map((s) => s?.resumed_from_step)).toEqual([Number(resumed?.[1])]);
    expect(await readdir(join(shared, 'resume')).catch(() => [])).toEqual([]);
  });
});
