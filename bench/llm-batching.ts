/**
 * Batched local generation against one item at a time, on the same items: the demo's QA calls
 * (figures of the fixture, questions from the bank) answered by the local GGUF model with
 * llm.parallel = 1 and = P, each into an empty memo. Then P again into another empty memo, and
 * a "crash" (the run stopped after half the items) resumed from its memo: both must give the
 * answers of the uninterrupted P run, which is what the lock-step waves are for.
 *
 * Figures: seconds per item for 1 and P, the speed-up, how many answers batching changed
 * (why llm.parallel enters the call keys), and whether the repeats (of 1 and of P) and the
 * resume matched: what llm.threads may be for a deterministic run.
 *
 *   node bench/llm-batching.ts [items=16] [P=4] [model=smollm2-135m-instruct-q4_1] [threads=1]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../runner/artifact-store.ts';
import { fixtureArticles } from '../scripts/make-fixture-articles.ts';
import { qaRequest } from '../stages/generate-qa/qa-prompt.ts';
import { QUESTION_BANK } from '../stages/generate-qa/question-bank.ts';
import { createLlmClient } from '../stages/llm/llm-client.ts';
import { resolveLlmSettings } from '../stages/llm/llm-settings.ts';
import { runItems } from '../stages/llm/llm-stage-items.ts';
import { ensureLocalModel } from '../stages/llm/local-model.ts';

const N = Number(process.argv[2] ?? 16);
const P = Number(process.argv[3] ?? 4);
const MODEL = process.argv[4] ?? 'smollm2-135m-instruct-q4_1';
const THREADS = Number(process.argv[5] ?? 1);
const MAX_TOKENS = 64;

const figures = fixtureArticles
  .filter((a) => a.category === 21)
  .flatMap((a) => a.figures.map((f) => ({ ...f, title: a.title, journal: a.journal })));
const requests = Array.from({ length: N }, (_, i) => {
  const figure = figures[i % figures.length] as (typeof figures)[number];
  const question = QUESTION_BANK[i % QUESTION_BANK.length] as (typeof QUESTION_BANK)[number];
  return qaRequest(figure, question, MAX_TOKENS);
});

const installed = await ensureLocalModel(MODEL, (line) => console.log(line));
if (!installed.ok) throw new Error(installed.error.message);
const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-batching-'));

async function run(parallel: number, memoDir: string, stopAfter?: number) {
  const settings = resolveLlmSettings({
    provider: 'local',
    model: MODEL,
    max_output_tokens: MAX_TOKENS,
    threads: THREADS,
    parallel,
  });
  const created = createLlmClient({
    settings,
    memo: new ArtifactStore(memoDir).memo(),
    stage: 'generate-qa',
    localModelPath: installed.ok ? installed.value : '',
  });
  if (!created.ok) throw new Error(created.error.message);
  const client = created.value;
  const stop = new AbortController();
  const started = performance.now();
  const outcomes = await runItems(
    requests,
    async (request, wave) => {
      const answer = await client.generateStructured(request, stop.signal, wave);
      return answer.ok
        ? { ok: true as const, value: answer.value.raw }
        : {
            ok: false as const,
            failure: { item: '', reason: answer.error.reason, message: answer.error.message },
          };
    },
    {
      concurrency: settings.rate_limit.concurrency,
      signal: stop.signal,
      onDone: (done) => {
        if (stopAfter !== undefined && done >= stopAfter) stop.abort();
      },
      waves: { client, firstRequest: (request) => request },
    },
  );
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { answers: outcomes.map((o) => (o?.ok ? o.value : undefined)), seconds };
}

try {
  const one = await run(1, join(work, 'one'));
  const oneAgain = await run(1, join(work, 'one-again'));
  const many = await run(P, join(work, 'many'));
  const again = await run(P, join(work, 'again'));
  const crashed = join(work, 'crashed');
  await run(P, crashed, Math.floor(N / 2) + 1);
  const resumed = await run(P, crashed);
  const changed = one.answers.filter((a, i) => a !== many.answers[i]).length;
  const same = (x: (string | undefined)[]) => x.every((a, i) => a === many.answers[i]);
  console.log(`model ${MODEL}, ${N} QA items, max ${MAX_TOKENS} tokens, ${THREADS} thread(s)`);
  console.log('| decoding | seconds | s/item |');
  console.log('|---|---|---|');
  console.log(`| one at a time | ${one.seconds.toFixed(1)} | ${(one.seconds / N).toFixed(2)} |`);
  console.log(
    `| ${P} parallel sequences | ${many.seconds.toFixed(1)} | ${(many.seconds / N).toFixed(2)} |`,
  );
  console.log(`speed-up ${(one.seconds / many.seconds).toFixed(2)}x`);
  console.log(`answers changed by batching: ${changed} of ${N}`);
  const sameAsOne = oneAgain.answers.every((a, i) => a === one.answers[i]);
  console.log(`repeat of the one-at-a-time run identical: ${sameAsOne}`);
  console.log(`repeat of the ${P}-parallel run identical: ${same(again.answers)}`);
  console.log(`run stopped after half, resumed: identical: ${same(resumed.answers)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
