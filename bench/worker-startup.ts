// What a model worker job costs before and after its work: a one-step training job of the
// tests' tiny stand-in, end to end through worker-client.ts as a stage runs it, started in its
// own interpreter (the reference: DERMATUNE_WORKER_FORK_SERVER=0) and as a fork of the fork
// server, alternating in the same run. The first forked job also starts the server; the medians
// leave it out and it is printed on its own.
// Usage: node bench/worker-startup.ts [--rounds 6]

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FORK_SERVER_SWITCH } from '../stages/model-worker/fork-server.ts';
import { defaultTrainSettings } from '../stages/model-worker/spec-defaults.ts';
import {
  ensureStandInModel,
  modelsDir,
  STAND_IN_NAME,
} from '../stages/model-worker/stand-in-model.ts';
import { ensureWorkerEnv, runWorker } from '../stages/model-worker/worker-client.ts';
import { TRAIN_OUTPUT } from '../stages/train/contract.ts';
import { makeWorkerFixture } from '../tests/model-worker/worker-fixture.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' } } });
const rounds = Number(values.rounds);
const python = await ensureWorkerEnv();
if (!python.ok) throw new Error(python.error.message);
const model = await ensureStandInModel(python.value, STAND_IN_NAME);
if (!model.ok) throw new Error(model.error.message);
const fixture = await makeWorkerFixture();
const interpreter = python.value;

async function oneJob(name: string, forked: boolean): Promise<number> {
  const started = performance.now();
  const result = await runWorker(
    {
      type: 'train',
      outputs: TRAIN_OUTPUT,
      output_dir: join(fixture.dir, name),
      models_dir: modelsDir(),
      model: { base: STAND_IN_NAME },
      data: { train: fixture.trainFile, image_root: fixture.imageRoot },
      supervision: 'qa',
      seed: 1,
      train: defaultTrainSettings({ batch_size: 2, image_size: 384, max_steps: 1 }),
    },
    {
      python: interpreter,
      logFile: join(fixture.dir, `${name}.log`),
      env: forked ? {} : { [FORK_SERVER_SWITCH]: '0' },
    },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const alone: number[] = [];
const forked: number[] = [];
const first = await oneJob('forked-first', true);
for (let round = 0; round < rounds; round++) {
  alone.push(await oneJob(`alone-${round}`, false));
  forked.push(await oneJob(`forked-${round}`, true));
}
console.log(`one-step training job of ${STAND_IN_NAME}, ${rounds} rounds, seconds end to end`);
console.log('| started | median | min | max |');
console.log('|---|---:|---:|---:|');
for (const [label, xs] of [
  ['in its own interpreter (reference)', alone],
  ['as a fork of the fork server', forked],
] as const) {
  console.log(
    `| ${label} | ${median(xs).toFixed(2)} | ${Math.min(...xs).toFixed(2)} | ${Math.max(...xs).toFixed(2)} |`,
  );
}
console.log(`first forked job, the server's start included: ${first.toFixed(2)} s`);
console.log(`saved per job: ${(median(alone) - median(forked)).toFixed(2)} s`);
