import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { CheckpointStore } from '../../runner/checkpoint-store.ts';
import { crashRandom } from '../crash-seed.ts';
import { workerReady } from './worker-fixture.ts';

/**
 * Preemption, for real: the whole `dermatune run` process group (runner and model worker) is
 * SIGKILLed at random moments of a training and of a generation of the demo stand-in, and
 * rerun. Every rerun must resume from the checkpoint the killed run left (never step 0), and
 * the run that finally completes must store the same adapter bytes, the same trainer-log
 * losses and the same predictions as an uninterrupted run.
 *
 * The kills are chained in one store per stage (each trial's rerun is the next trial's victim),
 * so that ten trials cost eleven worker start-ups rather than thirty; a resume that got any
 * state wrong would still show in the final bytes, which every later trial builds on. The
 * generation chain starts from the reference's stored training (the store is keyed by content)
 * and runs beside the training chain.
 */
const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
const CLI = join(process.cwd(), 'tests', 'model-worker', 'fixtures', 'checkpoint-cli.ts');
const TRIALS = 10;

// 16 examples (qa_caption), batch 1 x accumulation 2, 20 epochs: 160 optimizer steps of a few
// tens of milliseconds, a checkpoint every 4. Generation answers 24 questions, one batch each.
const SPEC = `name: checkpoint-crash
seed: 5
model: { base: tiny-smolvlm-standin }
data: { supervision: qa_caption }
train:
  epochs: 20
  batch_size: 1
  grad_accum: 2
  learning_rate: 0.01
  image_size: 64
  max_seq_length: 256
  device: cpu
  checkpoint_every: 4
generate: { max_new_tokens: 12, image_size: 64, batch_size: 1 }
`;

interface Run {
  child: ChildProcess;
  done: Promise<number | null>;
  output: () => string;
}

function start(args: string[], cwd: string): Run {
  // Its own process group, so that one kill takes the runner and its worker together, as a
  // preempted machine would.
  const child = spawn(NODE, [CLI, ...args], {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done, output: () => text };
}

function killGroup(run: Run): void {
  try {
    process.kill(-(run.child.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let spec: string;
let keys: { data: string; train: string; generate: string };
let reference: Stored;

interface Stored {
  adapterSha: string;
  losses: number[];
  predictions: string[];
}

/** What must not change with kills: adapter bytes, losses, predictions (timings aside). */
async function stored(store: string): Promise<Stored> {
  const artifacts = new ArtifactStore(store);
  const train = await artifacts.lookup(keys.train);
  const generate = await artifacts.lookup(keys.generate);
  if (train.state !== 'present' || generate.state !== 'present') throw new Error('not stored');
  const adapter = await readFile(join(train.outputDir, 'adapter', 'adapter_model.safetensors'));
  const log = await readFile(join(train.outputDir, 'trainer-log.jsonl'), 'utf8');
  const predictions = await readFile(join(generate.outputDir, 'predictions.jsonl'), 'utf8');
  return {
    adapterSha: createHash('sha256').update(adapter).digest('hex'),
    losses: log
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { loss: number }).loss),
    predictions: predictions
      .trim()
      .split('\n')
      .map((line) => {
        const { timing: _timing, ...rest } = JSON.parse(line) as Record<string, unknown>;
        return JSON.stringify(rest);
      }),
  };
}

async function stats(store: string, key: string): Promise<Record<string, unknown>> {
  const entry = await new ArtifactStore(store).lookup(key);
  if (entry.state !== 'present') throw new Error(`${key} is not stored`);
  return entry.manifest.summary.stats ?? {};
}

beforeAll(async () => {
  await workerReady();
  dir = await mkdtemp(join(tmpdir(), 'dermatune-checkpoint-crash-'));
  spec = await writeSpec(dir);
  const planned = start(['plan', spec, '--json', '--store', join(dir, 'reference')], dir);
  expect(await planned.done).toBe(0);
  const nodes = (JSON.parse(planned.output()) as { nodes: { id: string; key: string }[] }).nodes;
  const keyOf = (id: string) => nodes.find((n) => n.id === id)?.key ?? '';
  keys = { data: keyOf('data'), train: keyOf('train'), generate: keyOf('generate') };
  const run = start(['run', spec, '--store', join(dir, 'reference'), '--no-tracking'], dir);
  expect(await run.done, run.output()).toBe(0);
  reference = await stored(join(dir, 'reference'));
}, 900_000);

async function writeSpec(folder: string): Promise<string> {
  const path = join(folder, 'spec.yaml');
  await writeFile(path, SPEC);
  return path;
}

/**
 * Kills runs of `stage` in one store, each at a random moment after it made progress of its
 * own (a new checkpoint or batch) and before it made more than `cap` (so that ten trials fit in
 * one training), then checks that the next run picks up exactly there; a last run completes.
 */
async function killChain(
  store: string,
  stage: 'train' | 'generate',
  random: () => number,
  maxDelayMs: number,
  cap: number,
): Promise<{ kills: number; resumedAt: number[]; final: Run }> {
  const checkpoints = new CheckpointStore(store);
  const key = keys[stage];
  const resumedAt: number[] = [];
  let kills = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const before = (await checkpoints.read(key))?.done ?? 0;
    const run = start(['run', spec, '--store', store, '--no-tracking'], dir);
    const progress = async () => (await checkpoints.read(key))?.done ?? 0;
    // Wait for this run's own progress, then a random moment more (at most `cap` progress).
    while (run.child.exitCode === null && (await progress()) <= before) await sleep(25);
    const deadline = Date.now() + random() * maxDelayMs;
    while (
      run.child.exitCode === null &&
      Date.now() < deadline &&
      (await progress()) < before + cap
    ) {
      await sleep(10);
    }
    killGroup(run);
    await run.done;
    const stageStored = (await new ArtifactStore(store).lookup(key)).state === 'present';
    expect(
      stageStored,
      `${stage} trial ${trial}: the stage finished before the kill\n${run.output()}`,
    ).toBe(false);
    kills++;
    const left = await checkpoints.read(key);
    expect(left, `${stage} trial ${trial}: a checkpoint is left`).toBeDefined();
    if (resumedAt.length > 0) {
      // It picked up where the previous kill left it, not at step 0: at the progress the state
      // file recorded, or one further when the kill fell between a checkpoint's (or a batch's)
      // rename and the state file's update, since the worker resumes from what is on disk.
      const last = resumedAt.at(-1) ?? 0;
      const said = (at: number) =>
        stage === 'train'
          ? `resumed from the checkpoint at step ${at}/`
          : `resumed generation after ${at}/`;
      const output = run.output();
      // The next checkpoint is `checkpoint_every` (4, in SPEC) steps on; the next batch, one item.
      const step = stage === 'train' ? 4 : 1;
      expect(
        [said(last), said(last + step)].some((line) => output.includes(line)),
        `${stage} trial ${trial}: expected ${said(last)} (or the next)\n${output}`,
      ).toBe(true);
    }
    resumedAt.push(left?.done ?? -1);
  }
  const final = start(['run', spec, '--store', store, '--no-tracking'], dir);
  expect(await final.done, final.output()).toBe(0);
  return { kills, resumedAt, final };
}

describe('a training or generation killed half-way', () => {
  it(`resumes from its last checkpoint and ends byte-identical (${TRIALS} kills of each)`, {
    timeout: 1_800_000,
  }, async () => {
    // Kill moments from one printed seed (DERMATUNE_CRASH_SEED replays a failure).
    const trainKills = crashRandom('checkpoint-crash train');
    const generateKills = crashRandom('checkpoint-crash generate');
    const trainStore = join(dir, 'killed-train');
    const generateStore = join(dir, 'killed-generate');
    // The generation chain starts with the reference's data and training already stored.
    for (const key of [keys.data, keys.train]) {
      await cp(join(dir, 'reference', 'stages', key), join(generateStore, 'stages', key), {
        recursive: true,
      });
    }
    const [training, generation] = await Promise.all([
      killChain(trainStore, 'train', trainKills.next, 1000, 12),
      killChain(generateStore, 'generate', generateKills.next, 500, 2),
    ]);

    for (const chain of [training, generation]) {
      expect(chain.kills).toBe(TRIALS);
      expect(chain.resumedAt[0]).toBeGreaterThan(0);
      expect(chain.resumedAt.every((done, i) => done >= (chain.resumedAt[i - 1] ?? 0))).toBe(true);
    }
    // The completing runs resumed from the last kill's checkpoint too.
    expect((await stats(trainStore, keys.train)).resumed_from_step).toBe(training.resumedAt.at(-1));
    expect((await stats(generateStore, keys.generate)).resumed_items).toBe(
      generation.resumedAt.at(-1),
    );

    for (const store of [trainStore, generateStore]) {
      const after = await stored(store);
      expect(after.adapterSha).toBe(reference.adapterSha);
      expect(after.losses).toEqual(reference.losses);
      expect(after.losses).toHaveLength(160);
      expect(after.predictions).toEqual(reference.predictions);
      expect(after.predictions).toHaveLength(24);
      // The resume folders are spent once the outputs are committed.
      expect(await new CheckpointStore(store).keys()).toEqual([]);
    }
  });
});
