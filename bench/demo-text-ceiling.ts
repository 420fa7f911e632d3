/**
 * How far a model that cannot see the photographs can get on the demo's ROUGE-L. The demo's
 * stand-in has a random vision tower, so all tuning can teach it is how each bank question is
 * usually answered. This scores that directly, per train size, beside the untuned stand-in's
 * score and the target (the untuned score + 5 points):
 *
 * - typical: every test question answered with the most typical training answer to the same bank
 *   question (its medoid: the highest mean ROUGE-L F against the other training answers to that
 *   question; the medoid of all training answers for a question no training answer shares);
 * - best in hindsight: the one training answer per bank question that scores best against the
 *   test references themselves, which no model could pick without them. A model may still write a
 *   better answer than any single training answer, so neither figure is a proof, only a reading;
 * - test figures whose condition (the fixture article's first MeSH term) some training figure
 *   shows: what seeing the photograph could add, were the fixture's images to show the condition
 *   (they do not: scripts/make-fixture.ts colours each lesion at random).
 *
 *   node bench/demo-text-ceiling.ts [--store <a demo store with its data chain and the untuned
 *                                    stand-in's answers>]
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../runner/artifact-store.ts';
import { fixtureArticles } from '../scripts/make-fixture-articles.ts';
import { scoreRouge } from '../stages/evaluate/rouge.ts';
import { GENERATE_OUTPUT } from '../stages/generate/contract.ts';
import { SPLIT_OUTPUT } from '../stages/split/contract.ts';
import { SUBSET_OUTPUT } from '../stages/subset/contract.ts';

const { values } = parseArgs({ options: { store: { type: 'string', default: 'artifacts' } } });
const storeDir = values.store as string;

interface QaRow {
  article_id: string;
  question_id: string;
  answer: string;
  reference?: string;
  prediction?: string;
}

const plan = spawnSync(
  process.execPath,
  ['runner/cli/bin.js', 'plan', 'experiments/demo.yaml', '--store', storeDir, '--json'],
  { encoding: 'utf8' },
);
if (plan.status !== 0) throw new Error(`dermatune plan: exit ${plan.status}\n${plan.stderr}`);
const nodes = (JSON.parse(plan.stdout) as { nodes: { id: string; key: string; state: string }[] })
  .nodes;
const store = new ArtifactStore(storeDir);

async function rows(nodeId: string, file: string): Promise<QaRow[]> {
  const node = nodes.find((n) => n.id === nodeId);
  if (node?.state !== 'cached') throw new Error(`${nodeId} is not in ${storeDir} yet`);
  const text = await readFile(join(store.outputDir(node.key), file), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as QaRow);
}

const rougeL = (reference: string, prediction: string) =>
  scoreRouge(reference, prediction).rougeL.fmeasure;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function medoid(answers: string[]): string {
  let best = answers[0] ?? '';
  let bestScore = -1;
  for (const [i, candidate] of answers.entries()) {
    const score = mean(answers.filter((_, j) => j !== i).map((other) => rougeL(other, candidate)));
    if (score > bestScore) [best, bestScore] = [candidate, score];
  }
  return best;
}

/** The training answer per bank question that scores best on the test references. */
function bestInHindsight(train: QaRow[], test: QaRow[]): number {
  const scores = test.map(() => 0);
  for (const questionId of new Set(test.map((row) => row.question_id))) {
    const references = test.flatMap((row, i) => (row.question_id === questionId ? [i] : []));
    const own = train.filter((row) => row.question_id === questionId);
    const candidates = (own.length > 0 ? own : train).map((row) => row.answer);
    let best = 0;
    for (const candidate of candidates) {
      const score = mean(references.map((i) => rougeL((test[i] as QaRow).answer, candidate)));
      best = Math.max(best, score);
    }
    for (const i of references) scores[i] = best;
  }
  return mean(scores);
}

const condition = new Map(fixtureArticles.map((article) => [article.pmcid, article.mesh[0]]));
const test = await rows('split', SPLIT_OUTPUT.test);
const untuned = await rows('generate[baseline-untuned]', GENERATE_OUTPUT.predictions);
const untunedScore =
  100 * mean(untuned.map((row) => rougeL(row.reference ?? '', row.prediction ?? '')));
console.log(`${test.length} test questions; untuned stand-in ROUGE-L ${untunedScore.toFixed(2)}`);
console.log(
  '| train size | training answers | typical answer: ROUGE-L | best training answer in hindsight: ROUGE-L | test questions on a condition seen in training | target |',
);
console.log('|---|---:|---:|---:|---:|---:|');
for (const size of ['6', '12', 'all']) {
  const train = await rows(`subset[${size}]`, SUBSET_OUTPUT.train);
  const byQuestion = new Map<string, string[]>();
  for (const row of train)
    byQuestion.set(row.question_id, [...(byQuestion.get(row.question_id) ?? []), row.answer]);
  const typical = new Map([...byQuestion].map(([id, answers]) => [id, medoid(answers)]));
  const overall = medoid(train.map((row) => row.answer));
  const score =
    100 * mean(test.map((row) => rougeL(row.answer, typical.get(row.question_id) ?? overall)));
  const hindsight = 100 * bestInHindsight(train, test);
  const seen = new Set(train.map((row) => condition.get(row.article_id)));
  const onSeen = test.filter((row) => seen.has(condition.get(row.article_id))).length;
  console.log(
    `| ${size} | ${train.length} | ${score.toFixed(2)} | ${hindsight.toFixed(2)} | ${onSeen} of ${test.length} | ${(untunedScore + 5).toFixed(2)} |`,
  );
}
