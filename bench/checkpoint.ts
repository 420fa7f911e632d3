// Checkpoint benchmark: what training checkpoints cost. (1) The demo's training settings on
// the stand-in, at the default `train.checkpoint_every` and at every 4 steps, each against the
// same training without checkpoints, alternating in the same run: checkpoint seconds as a share
// of the training loop (target: at most 3% at the default on the demo). (2) The size and write
// time of one checkpoint of the paper's model (SmolVLM-Base LoRA q_proj/v_proj, 2.57M trainable
// parameters) with the worker's own writer.
// Usage: node bench/checkpoint.ts [--rounds 2]
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEMO_STAND_IN_NAME, ensureStandInModel } from '../stages/model-worker/stand-in-model.ts';
import { ensureWorkerEnv, runWorker, WORKER_DIR } from '../stages/model-worker/worker-client.ts';
import type { TrainSettings } from '../stages/model-worker/worker-job.ts';
import { TRAIN_OUTPUT } from '../stages/train/contract.ts';
import { trainKind } from '../stages/train/kind.ts';
import { makeWorkerFixture } from '../tests/model-worker/worker-fixture.ts';

process.env.OMP_NUM_THREADS ??= '1';
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 2;
const PAPER_TRAINABLE = 2_570_000;
const WRITE_SCRIPT = fileURLToPath(new URL('./checkpoint_write.py', import.meta.url));
const DEMO = fileURLToPath(new URL('../experiments/demo.yaml', import.meta.url));

// The one place the default lives: the train stage's schema.
const schema = trainKind.paramsSchema as {
  properties: { train: { properties: { checkpoint_every: { default: number } } } };
};
const DEFAULT_EVERY = schema.properties.train.properties.checkpoint_every.default;

const python = await ensureWorkerEnv();
if (!python.ok) throw new Error(python.error.message);
const model = await ensureStandInModel(python.value, DEMO_STAND_IN_NAME);
if (!model.ok) throw new Error(model.error.message);
const fixture = await makeWorkerFixture();
const { method: _method, ...demoTrain } = (
  parse(await readFile(DEMO, 'utf8')) as {
    train: TrainSettings & { method?: string };
  }
).train;
// 108 QA rows plus 4 captions (qa_caption): 112 examples, 56 optimizer steps at the demo's
// batch 1 x accumulation 4 over 2 epochs, the size of the demo's largest training.
const rows = (await readFile(fixture.trainFile, 'utf8')).trim().split('\n');
const trainFile = join(fixture.dir, 'bench-train.jsonl');
await writeFile(
  trainFile,
  `${Array.from({ length: 9 }, () => rows)
    .flat()
    .join('\n')}\n`,
);

interface Measured {
  /** Bytes of the newest checkpoint folder (0 without checkpoints). */
  bytes: number;
  trainSeconds: number;
  checkpointSeconds: number;
  checkpoints: number;
  steps: number;
}

async function train(every: number | null, round: number): Promise<Measured> {
  const out = join(fixture.dir, `train-${every}-${round}`);
  const resume = join(fixture.dir, `resume-${every}-${round}`);
  const result = await runWorker(
    {
      type: 'train',
      outputs: TRAIN_OUTPUT,
      output_dir: out,
      checkpoint_dir: every === null ? null : resume,
      model: { base: model.ok ? model.value.path : '' },
      data: { train: trainFile, image_root: fixture.imageRoot },
      supervision: 'qa_caption',
      seed: 42,
      train: { ...demoTrain, checkpoint_every: every ?? demoTrain.checkpoint_every },
    },
    { python: python.ok ? python.value : '', logFile: join(fixture.dir, 'bench.log') },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  const s = result.value.summary as {
    train_seconds: number;
    checkpoint_seconds: number;
    checkpoints_written: number;
    steps: number;
  };
  const bytes = every === null ? 0 : await newestCheckpointBytes(join(resume, 'train'));
  await rm(out, { recursive: true, force: true });
  await rm(resume, { recursive: true, force: true });
  return {
    bytes,
    trainSeconds: s.train_seconds,
    checkpointSeconds: s.checkpoint_seconds,
    checkpoints: s.checkpoints_written,
    steps: s.steps,
  };
}

async function newestCheckpointBytes(dir: string): Promise<number> {
  const steps = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
    n.startsWith('step-'),
  );
  const newest = steps.sort().at(-1);
  if (newest === undefined) return 0;
  let bytes = 0;
  for (const name of await readdir(join(dir, newest)))
    bytes += (await stat(join(dir, newest, name))).size;
  return bytes;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

for (const every of [DEFAULT_EVERY, 4]) {
  const withCheckpoints: Measured[] = [];
  const without: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    withCheckpoints.push(await train(every, round));
    without.push(await train(null, round));
  }
  const loop = median(withCheckpoints.map((m) => m.trainSeconds));
  const spent = median(withCheckpoints.map((m) => m.checkpointSeconds));
  const count = withCheckpoints[0]?.checkpoints ?? 0;
  console.log(
    `demo training (${withCheckpoints[0]?.steps} steps), checkpoint_every ${every}${every === DEFAULT_EVERY ? ' (default)' : ''}: ` +
      `${count} checkpoint(s) of ${((withCheckpoints[0]?.bytes ?? 0) / 1e3).toFixed(0)} kB, ${(spent * 1000).toFixed(1)} ms in all (${count > 0 ? ((spent / count) * 1000).toFixed(1) : '-'} ms each), ` +
      `${((spent / loop) * 100).toFixed(2)}% of the ${loop.toFixed(2)} s loop${every === DEFAULT_EVERY ? ' (target: at most 3%)' : ''}; ` +
      `loop without checkpoints ${median(without.map((m) => m.trainSeconds)).toFixed(2)} s`,
  );
}

const folder = await mkdtemp(join(tmpdir(), 'dermatune-bench-ckpt-'));
const written = await new Promise<string>((resolve, reject) => {
  const child = spawn(python.value, [WRITE_SCRIPT, folder, String(PAPER_TRAINABLE)], {
    env: { ...process.env, PYTHONPATH: WORKER_DIR },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
});
await rm(folder, { recursive: true, force: true });
const paper = JSON.parse(written.trim()) as { bytes: number; seconds: number };
// The paper's run: about 3,400 optimizer steps in about an hour on one A100 (issue 16), ~1 s/step.
const share = paper.seconds / (DEFAULT_EVERY * 1.06);
console.log(
  `paper-size checkpoint (${PAPER_TRAINABLE.toLocaleString('en')} trainable parameters, adapter + AdamW moments): ` +
    `${(paper.bytes / 1e6).toFixed(1)} MB, written in ${(paper.seconds * 1000).toFixed(0)} ms here ` +
    `(at ~1.06 s/step and every ${DEFAULT_EVERY} steps: ${(share * 100).toFixed(2)}% of training)`,
);
