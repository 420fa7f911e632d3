// `dermatune ask` against a plain transformers + peft script on the same adapter, in one run, on
// the tests' tiny stand-in (tests/cli/trained-store.ts trains it): time to the first answer
// (model load included) and the latency of a second question. `ask` starts a generate job per
// call (through the worker's fork server, which keeps torch imported), so its second question
// pays the model load again; `serve` keeps the model loaded, as the plain script does, so its
// second question is compared with the plain script's warm one (target: at most 1.1x).
// Usage: node bench/ask.ts
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactStore } from '../runner/artifact-store.ts';
import { planSweep } from '../runner/sweep-plan.ts';
import { modelsDir, STAND_IN_NAME } from '../stages/model-worker/stand-in-model.ts';
import { startServe } from '../stages/tuned-model/serve-command.ts';
import { loadExport } from '../tests/cli/load-export.ts';
import { makeTrainedStore, storedImage, storedPredictions } from '../tests/cli/trained-store.ts';
import { checkpointPipeline } from '../tests/model-worker/checkpoint-pipeline.ts';

const trained = await makeTrainedStore();
const [first, , , second] = await storedPredictions(trained.store, true);
if (!first || !second) throw new Error('no stored predictions');
const items = [
  { question: first.question, image: await storedImage(trained.store, first.image) },
  { question: second.question, image: await storedImage(trained.store, second.image) },
];

async function ask(item: { question: string; image: string }): Promise<number> {
  const started = performance.now();
  const run = await trained.cli([
    'ask',
    'trained.yaml',
    '--variant',
    'lora',
    '--image',
    item.image,
    item.question,
  ]);
  if (run.code !== 0) throw new Error(run.stderr);
  return (performance.now() - started) / 1000;
}

const askFirst = await ask(items[0] as (typeof items)[number]);
const askSecond = await ask(items[1] as (typeof items)[number]);

// serve: the same two questions through its HTTP API, the first loading the model.
const plan = await planSweep(checkpointPipeline, { specPath: trained.spec, fresh: false });
if (!plan.ok) throw new Error('the spec does not plan');
const serving = await startServe({
  plan: plan.value,
  store: new ArtifactStore(trained.store),
  runArgs: 'trained.yaml',
  host: '127.0.0.1',
  port: 0,
});
async function serveAsk(item: { question: string; image: string }): Promise<number> {
  const image = `data:image/png;base64,${(await readFile(item.image)).toString('base64')}`;
  const started = performance.now();
  const response = await fetch(new URL('api/ask', serving.url), {
    method: 'POST',
    body: JSON.stringify({ variants: ['lora'], question: item.question, image }),
  });
  if (!response.ok) throw new Error(await response.text());
  return (performance.now() - started) / 1000;
}
const serveFirst = await serveAsk(items[0] as (typeof items)[number]);
const serveSecond = await serveAsk(items[1] as (typeof items)[number]);
const serveLoads = serving.models.loads.get('lora');
await serving.close();

const exported = await trained.cli([
  'export',
  'trained.yaml',
  '--variant',
  'lora',
  '--to',
  'bench-export',
]);
if (exported.code !== 0) throw new Error(exported.stderr);
const started = performance.now();
const plain = loadExport(trained.dir, {
  mode: 'adapter',
  folder: join(trained.dir, 'bench-export'),
  base: join(modelsDir(), STAND_IN_NAME),
  items,
});
const plainWall = (performance.now() - started) / 1000;
const plainFirst = plain.load_seconds + (plain.answer_seconds[0] ?? Number.NaN);

const rows: string[][] = [
  [
    'first answer, model load included',
    `${askFirst.toFixed(2)} s`,
    `${plainFirst.toFixed(2)} s (process ${plainWall.toFixed(2)} s for both)`,
  ],
  [
    'second question',
    `${askSecond.toFixed(2)} s (loads again)`,
    `${(plain.answer_seconds[1] ?? Number.NaN).toFixed(2)} s (model warm)`,
  ],
];
rows[0]?.splice(2, 0, `${serveFirst.toFixed(2)} s`);
rows[1]?.splice(2, 0, `${serveSecond.toFixed(2)} s (model warm; loaded ${serveLoads} time)`);
console.log('| | dermatune ask | dermatune serve | plain transformers + peft |\n|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(
  `\nsecond question: serve ${(serveSecond / (plain.answer_seconds[1] ?? Number.NaN)).toFixed(2)}x the plain script's warm latency (target <= 1.1x)`,
);
console.log(
  `\nsecond question: ask ${(askSecond / (plain.answer_seconds[1] ?? Number.NaN)).toFixed(1)}x the plain script's warm latency`,
);
