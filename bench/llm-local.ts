/**
 * Which local GGUF model the demo's data chain should use, measured on the demo's fixture
 * through the real stages: curate reads the three fixture shards; annotate labels every curated
 * figure (agreement with the category each fixture article was written for, the keyword
 * stand-in beside it as the reference); generate-qa answers the bank's questions for the
 * bacterial figures and clean-qa filters them (pairs kept); distractors writes options for the
 * kept pairs (share of questions with three accepted options). Seconds per item for each.
 *
 *   node bench/llm-local.ts [--models a,b] [--qa-figures 8] [--parallel 4] [--threads 1]
 *                           [--max-tokens 64] [--label-figures all]
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { StageContext, StageSummary } from '../runner/stage-kind.ts';
import { fixtureArticles } from '../scripts/make-fixture-articles.ts';
import type { AnnotationRow } from '../stages/annotate/annotate-prompt.ts';
import { runAnnotate } from '../stages/annotate/run-annotate.ts';
import { labelByKeywords } from '../stages/annotate-keywords/keyword-labeller.ts';
import { cleanQaPairs } from '../stages/clean-qa/clean-qa.ts';
import type { CuratedRecord } from '../stages/curate/curated-record.ts';
import { runCurate } from '../stages/curate/run-curate.ts';
import { runDistractors } from '../stages/distractors/run-distractors.ts';
import { runGenerateQa } from '../stages/generate-qa/run-generate-qa.ts';
import { KNOWN_LOCAL_MODELS } from '../stages/llm/local-model.ts';
import { writeJsonl } from '../stages/shared/jsonl-file.ts';
import { stageContext } from '../tests/llm/llm-stage-fixtures.ts';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: KNOWN_LOCAL_MODELS.join(',') },
    'qa-figures': { type: 'string', default: '8' },
    'label-figures': { type: 'string', default: 'all' },
    parallel: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1' },
    'max-tokens': { type: 'string', default: '64' },
  },
});
const SHARDS = [
  'tests/fixtures/biomedica/commercial/000000.tar',
  'tests/fixtures/biomedica/commercial/000001.tar',
  'tests/fixtures/biomedica/noncommercial/000000.tar',
];
const BACTERIAL = 21;
const truth = new Map(fixtureArticles.map((a) => [a.pmcid, a.category]));

const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-llm-local-'));
const memoRoot = join(work, 'memo');

async function stage<P>(
  name: string,
  params: P,
  inputs: Record<string, string>,
  run: (ctx: StageContext<P>) => Promise<{ ok: boolean; value?: StageSummary; error?: unknown }>,
) {
  const { ctx } = await stageContext({ params, inputs, memoRoot, workDir: work });
  const started = performance.now();
  const result = await run(ctx);
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) throw new Error(`${name}: ${JSON.stringify(result.error)}`);
  return { dir: ctx.outDir, seconds, summary: result.value as StageSummary };
}

async function writeRows(dir: string, file: string, rows: readonly unknown[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeJsonl(join(dir, file), rows);
  return dir;
}

async function jsonl<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const pct = (part: number, whole: number) =>
  whole === 0 ? '-' : `${((100 * part) / whole).toFixed(0)}%`;

try {
  const curated = await stage(
    'curate',
    { data: { source: { type: 'local' as const, paths: SHARDS } } },
    {},
    runCurate as never,
  );
  const allRecords = await jsonl<CuratedRecord>(join(curated.dir, 'records.jsonl'));
  const labelLimit =
    args['label-figures'] === 'all' ? allRecords.length : Number(args['label-figures']);
  const labelRecords = allRecords.slice(0, labelLimit);
  const labelDir = await writeRows(join(work, 'label-input'), 'records.jsonl', labelRecords);
  const bacterial = allRecords.filter((r) => truth.get(r.article_id) === BACTERIAL);
  const qaRecords = bacterial.slice(0, Number(args['qa-figures']));
  const qaDir = await writeRows(join(work, 'qa-input'), 'records.jsonl', qaRecords);

  const keywordAgree = labelRecords.filter(
    (r) => labelByKeywords(r).category_number === truth.get(r.article_id),
  ).length;
  const rows: string[] = [];
  for (const model of String(args.models).split(',')) {
    const llm = {
      provider: 'local',
      model,
      temperature: 0,
      max_output_tokens: Number(args['max-tokens']),
      threads: Number(args.threads),
      parallel: Number(args.parallel),
    };
    const annotated = await stage('annotate', { llm }, { records: labelDir }, runAnnotate);
    const labels = await jsonl<AnnotationRow>(join(annotated.dir, 'annotations.jsonl'));
    const agree = labels.filter((l) => {
      const record = labelRecords.find((r) => r.key === l.key);
      return record !== undefined && l.category_number === truth.get(record.article_id);
    }).length;

    const qa = await stage(
      'generate-qa',
      { seed: 42, llm, data: { questions_per_image: 3 } },
      { images: qaDir },
      runGenerateQa,
    );
    const qaRows = await jsonl<Record<string, unknown>>(join(qa.dir, 'qa.jsonl'));
    const cleaned = cleanQaPairs(
      qaRows.map((value, i) => ({ line: i + 1, value })),
      0.9,
    );
    const asked = qaRecords.length * 3;
    const testDir = await writeRows(join(work, `test-${model}`), 'test.jsonl', cleaned.kept);
    const distractors = await stage(
      'distractors',
      {
        seed: 42,
        llm,
        eval: { distractors: 3, distractor_rounds: 3, distractor_fallback: 'none' as const },
      },
      { split: testDir },
      runDistractors,
    );
    const withOptions = Number(distractors.summary.metrics?.['distractors/with_options'] ?? 0);
    rows.push(
      `| ${model} | ${pct(agree, labels.length)} (${agree}/${labels.length}) | ${(annotated.seconds / labels.length).toFixed(2)} | ${pct(cleaned.kept.length, asked)} (${cleaned.kept.length}/${asked}) | ${(qa.seconds / asked).toFixed(2)} | ${pct(withOptions, cleaned.kept.length)} (${withOptions}/${cleaned.kept.length}) | ${(distractors.seconds / Math.max(1, cleaned.kept.length)).toFixed(2)} |`,
    );
    console.error(rows.at(-1));
  }
  console.log(
    `fixture: ${allRecords.length} curated figures (${bacterial.length} bacterial); labelling ${labelRecords.length}, QA on ${qaRecords.length} bacterial figures x 3 questions; llm.parallel ${args.parallel}, ${args.threads} thread(s), max ${args['max-tokens']} output tokens`,
  );
  console.log(
    '| model | labels agreeing with the fixture | s/figure | QA pairs kept by clean-qa | s/QA | questions with 3 accepted distractors | s/question |',
  );
  console.log('|---|---|---|---|---|---|---|');
  console.log(
    `| keyword stand-in (reference) | ${pct(keywordAgree, labelRecords.length)} (${keywordAgree}/${labelRecords.length}) | 0 | - | - | - | - |`,
  );
  for (const row of rows) console.log(row);
} finally {
  await rm(work, { recursive: true, force: true });
}
