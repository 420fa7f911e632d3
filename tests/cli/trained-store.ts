import { access, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackingForRun } from '../../runner/tracking/run-tracking.ts';
import { studyCommands } from '../../stages/commands.ts';
import { type CapturedRun, runCapturedCli } from '../cli-capture.ts';
import { checkpointPipeline } from '../model-worker/checkpoint-pipeline.ts';
import { workerReady } from '../model-worker/worker-fixture.ts';

/**
 * A store in which the tiny stand-in was really trained (LoRA) and both it and the untuned
 * base answered the fixture's test questions: the study's train and generate stages over the
 * worker fixture (tests/model-worker/checkpoint-pipeline.ts). `lora-r4` is in the sweep but
 * never run, for the "not trained yet" refusals.
 */
export const TRAINED_SPEC = `name: trained-store
seed: 5
model: { base: tiny-smolvlm-standin }
data: { supervision: qa }
train:
  epochs: 3
  batch_size: 2
  learning_rate: 0.01
  image_size: 64
  max_seq_length: 256
  device: cpu
generate: { max_new_tokens: 10, image_size: 64, batch_size: 1 }
sweep:
  name: "{train.method}"
  train.method: [lora, none]
  include:
    - name: lora-r4
      set:
        train.lora.rank: 4
`;

export interface TrainedStore {
  dir: string;
  spec: string;
  store: string;
  cli(argv: string[], env?: Record<string, string>): Promise<CapturedRun>;
  /** Every stored file with its size and modification time, to prove a command changed none. */
  snapshot(): Promise<string[]>;
}

/**
 * `tracking`: the run logs to that MLflow server (MLFLOW_TRACKING_URI) through the runner's
 * real tracking; otherwise it runs with `--no-tracking`.
 */
export async function makeTrainedStore(
  options: { trackingUri?: string } = {},
): Promise<TrainedStore> {
  await workerReady();
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-trained-'));
  const spec = join(dir, 'trained.yaml');
  await writeFile(spec, TRAINED_SPEC);
  const store = join(dir, 'store');
  const tracked = options.trackingUri !== undefined;
  const cli = (argv: string[], env: Record<string, string> = {}) =>
    runCapturedCli(argv, {
      pipeline: checkpointPipeline,
      cwd: dir,
      env: {
        DERMATUNE_STORE: store,
        ...(tracked && { MLFLOW_TRACKING_URI: options.trackingUri }),
        ...env,
      },
      extraCommands: studyCommands,
      ...(tracked && { tracking: trackingForRun }),
    });
  const run = await cli([
    'run',
    'trained.yaml',
    '--only',
    'lora,none',
    ...(tracked ? [] : ['--no-tracking']),
  ]);
  if (run.code !== 0) throw new Error(`the trained store's run failed:\n${run.stderr}`);
  return { dir, spec, store, cli, snapshot: () => listTree(store) };
}

/** The stored predictions of a variant's generate stage, found through its manifest's kind. */
export async function storedPredictions(
  store: string,
  adapter: boolean,
): Promise<{ question: string; image: string; prediction: string }[]> {
  const stages = join(store, 'stages');
  for (const key of await readdir(stages)) {
    const manifest = JSON.parse(await readFile(join(stages, key, 'manifest.json'), 'utf8')) as {
      record: { kind: string; inputs: Record<string, string> };
    };
    if (manifest.record.kind !== 'generate') continue;
    if ('adapter' in manifest.record.inputs !== adapter) continue;
    const text = await readFile(join(stages, key, 'output', 'predictions.jsonl'), 'utf8');
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  }
  throw new Error(`no stored generate stage ${adapter ? 'with' : 'without'} an adapter`);
}

/** The data stage's copy of a record's image (the records name it relative to that stage's output). */
export async function storedImage(store: string, relative: string): Promise<string> {
  const stages = join(store, 'stages');
  for (const key of await readdir(stages)) {
    const candidate = join(stages, key, 'output', relative);
    try {
      await access(candidate);
      return candidate;
    } catch {}
  }
  throw new Error(`no stored image ${relative}`);
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  const lines: string[] = [];
  for (const entry of entries.sort()) {
    const info = await stat(join(root, entry));
    lines.push(`${entry} ${info.size} ${info.mtimeMs}`);
  }
  return lines;
}
