// `dermatune ask` against a plain transformers + peft script on the same adapter, in one run, on
// the tests' tiny stand-in (tests/cli/trained-store.ts trains it): time to the first answer
// (model load included) and the latency of a second question. `ask` starts a generate job per
// call (through the worker's fork server, which keeps torch imported), so its second question
// pays the model load again; the plain script answers its second question with the model warm.
// `serve`, which would keep models loaded between questions, is not built yet.
// Usage: node bench/ask.ts
import { join } from 'node:path';
import { modelsDir, STAND_IN_NAME } from '../stages/model-worker/stand-in-model.ts';
import { loadExport } from '../tests/cli/load-export.ts';
import { makeTrainedStore, storedImage, storedPredictions } from '../tests/cli/trained-store.ts';

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

const rows: [string, string, string][] = [
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
console.log('| | dermatune ask | plain transformers + peft |\n|---|---|---|');
for (const [what, a, b] of rows) console.log(`| ${what} | ${a} | ${b} |`);
console.log(
  `\nsecond question: ask ${(askSecond / (plain.answer_seconds[1] ?? Number.NaN)).toFixed(1)}x the plain script's warm latency`,
);
