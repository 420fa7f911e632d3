import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVALUATE_OUTPUT } from '../../stages/evaluate/contract.ts';
import { scoreMetrics, scorePredictions } from '../../stages/evaluate/score-predictions.ts';
import { metricPlots } from '../../stages/report/metric-plots.ts';
import { groupReplicates } from '../../stages/report/replicate-groups.ts';
import { renderReportHtml } from '../../stages/report/report-html.ts';
import {
  renderStatisticsMarkdown,
  renderStatisticsText,
} from '../../stages/report/statistics-render.ts';
import type { VariantResult } from '../../stages/report/sweep-results.ts';
import { buildTable1, type Table1 } from '../../stages/report/table-1.ts';
import { renderTable1Markdown, renderTable1Text } from '../../stages/report/table-render.ts';
import { tableStatistics } from '../../stages/report/table-statistics.ts';
import { type SeededRandom, seededRandom } from '../../stages/shared/seeded-random.ts';
import { toyEmbed } from '../evaluate/toy-embed.ts';

/**
 * Table 1's statistics over real evaluate output: per-question lines written by the scoring
 * core on synthetic answers to 150 questions. "good" answers close to the references, "base"
 * (the untuned reference) answers with unrelated words, "twin" answers exactly as "base",
 * and "rep" is three replicates of a middling system.
 */
const QUESTIONS = 150;
const WORDS =
  'red crusted plaque honey impetigo warm spreading erythema cellulitis pustule follicle abscess swelling tender lesion border scale fever'.split(
    ' ',
  );
const OPTIONS = ['impetigo', 'cellulitis', 'folliculitis', 'erysipelas'];

function sentence(random: SeededRandom, length: number): string {
  return Array.from({ length }, () => WORDS[random.below(WORDS.length)]).join(' ');
}

const REFERENCES = (() => {
  const random = seededRandom(1, 'references');
  return Array.from({ length: QUESTIONS }, () => sentence(random, 6 + random.below(8)));
})();

/** Keeps each reference word with probability `keep`, else a random word; `extra` words appended. */
function answers(keep: number, seed: string, extra = 0): string[] {
  const random = seededRandom(seed, 'answers');
  return REFERENCES.map((reference, i) => {
    const kept = reference
      .split(' ')
      .map((w) => (random.next() < keep ? w : (WORDS[random.below(WORDS.length)] as string)));
    const answer = [...kept, ...sentence(random, extra).split(' ').filter(Boolean)].join(' ');
    // The option the toy encoder will match: the right one as often as the answer is good.
    return random.next() < keep
      ? `${answer} ${OPTIONS[i % 4]}`
      : `${answer} ${OPTIONS[(i + 1) % 4]}`;
  });
}

let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function evaluated(
  variant: string,
  predictions: string[],
  fields: Partial<VariantResult> = {},
): Promise<VariantResult> {
  const lines = predictions.map((prediction, i) => ({
    id: `q${i}`,
    prediction,
    reference: REFERENCES[i] as string,
    options: OPTIONS,
    answer_index: i % 4,
  }));
  const report = await scorePredictions(lines, { seed: 7, embed: toyEmbed, encoderName: 'toy' });
  const evaluateDir = join(dir, variant);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(evaluateDir, { recursive: true });
  await writeFile(
    join(evaluateDir, EVALUATE_OUTPUT.examples),
    report.examples.map((e) => JSON.stringify(e)).join('\n'),
  );
  const metrics = Object.fromEntries(
    Object.entries(scoreMetrics(report)).map(([k, v]) => [`eval/${k}`, v]),
  );
  return {
    variant,
    axes: {},
    baseline: false,
    state: { state: 'evaluated' },
    metrics,
    scoring: {},
    sources: { evaluateDir },
    evaluate: { key: `key-${variant}`, seed: 7, bleuSmooth: false },
    supervision: 'qa',
    trainSize: 10,
    ...fields,
  };
}

let results: VariantResult[];
let table: Table1;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dermatune-statistics-'));
  const base = answers(0.15, 'base');
  results = [
    await evaluated('good', answers(0.8, 'good'), { trainSize: 20 }),
    await evaluated('twin', base, { trainSize: 30 }),
    ...(await Promise.all(
      [1, 2, 3].map((seed) =>
        evaluated(`rep@train.seed=${seed}`, answers(0.45, `rep${seed}`, 4), {
          replicateOf: 'rep',
          replicate: { 'train.seed': seed },
          axes: { 'train.seed': seed },
          trainSize: 40,
        }),
      ),
    )),
    await evaluated('base', base, { baseline: true, supervision: undefined, trainSize: undefined }),
  ];
  const grouped = groupReplicates(results);
  table = buildTable1('stats-test', grouped.results);
  table.statistics = await tableStatistics(table, grouped, { trials: 2000 });
});

const rowOf = (variant: string) => table.statistics?.rows.find((r) => r.variant === variant);

describe('Table 1 statistics', () => {
  it('groups replicates into one row with n, mean and standard deviation', () => {
    expect(table.rows.map((r) => r.variant)).toEqual(['good', 'twin', 'rep', 'base']);
    expect(table.rows[2]?.label).toBe('QApairs-40 (n=3)');
    const rep = rowOf('rep');
    expect(rep?.n).toBe(3);
    const bleus = results
      .filter((r) => r.replicateOf === 'rep')
      .map((r) => r.metrics['eval/bleu'] as number);
    const mean = bleus.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(bleus.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    expect(table.rows[2]?.values.bleu).toBeCloseTo(mean * 100, 10);
    expect(rep?.sd.bleu).toBeCloseTo(sd * 100, 10);
    expect(rowOf('good')?.sd).toEqual({});
  });

  it('gives a single evaluation the same intervals the evaluate stage logged', () => {
    const good = results[0] as VariantResult;
    const row = rowOf('good');
    expect(row?.intervals.bleu?.low).toBeCloseTo(
      (good.metrics['eval/bleu_ci_low'] as number) * 100,
      10,
    );
    expect(row?.intervals.rougeL?.high).toBeCloseTo(
      (good.metrics['eval/rougeL_ci_high'] as number) * 100,
      10,
    );
    expect(row?.intervals.accuracy?.low).toBeCloseTo(
      (good.metrics['eval/accuracy_bootstrap_ci_low'] as number) * 100,
      10,
    );
  });

  it('tests every row against the untuned baseline, paired, with Holm over the table', () => {
    const statistics = table.statistics;
    expect(statistics?.reference).toEqual({ variant: 'base', label: 'base' });
    // Three rows x four metrics (no BERTScore here).
    expect(statistics?.comparison?.family).toBe(12);
    const good = rowOf('good')?.comparison;
    expect(good?.bleu?.direction).toBe('higher');
    expect(good?.rouge1?.direction).toBe('higher');
    expect(good?.accuracy).toMatchObject({ test: 'mcnemar-exact', direction: 'higher' });
    expect(good?.bleu?.low).toBeGreaterThan(0);
    expect(good?.bleu?.pHolm).toBeGreaterThanOrEqual(good?.bleu?.p ?? 1);
    // The same answers as the reference: no difference, p = 1, no mark.
    const twin = rowOf('twin')?.comparison;
    expect(twin?.rougeL).toMatchObject({ difference: 0, low: 0, high: 0, p: 1 });
    expect(twin?.bleu?.direction).toBeUndefined();
    // Replicates pool per question, so accuracy is a share: randomisation, not McNemar.
    expect(rowOf('rep')?.comparison?.accuracy?.test).toBe('approximate-randomisation');
    expect(rowOf('base')?.comparison).toBeUndefined();
  });

  it('marks significant cells in the terminal, Markdown and HTML tables and explains the marks in one line', () => {
    const text = renderTable1Text(table);
    const goodLine = text.split('\n').find((l) => l.startsWith('QApairs-20 '));
    expect(goodLine).toMatch(/▲/);
    expect(text.split('\n').find((l) => l.startsWith('QApairs-30 '))).not.toMatch(/[▲▼]/);
    const legend = text.split('\n').filter((l) => l.startsWith('▲/▼'));
    expect(legend).toHaveLength(1);
    expect(legend[0]).toContain("Holm's correction over the 12 comparisons");
    expect(renderTable1Markdown(table)).toMatch(/\| QApairs-20 \| \*\*[0-9.]+\*\*▲ \|/);
    const html = renderReportHtml({
      table,
      sweepId: 's',
      plots: [],
      samples: [],
      images: new Map(),
    });
    expect(html).toContain('id="statistics-comparison"');
    expect(html).toMatch(/<strong>[0-9.]+▲<\/strong>/);
  });

  it('prints intervals, the comparison and the verbosity view', () => {
    const text = renderStatisticsText(table);
    const repLine = text.split('\n').find((l) => l.startsWith('QApairs-40 ') && l.includes('±'));
    expect(repLine).toMatch(/^QApairs-40 \(n=3\)\s+3\s+[0-9.]+ ±[0-9.]+ \[[0-9.]+, [0-9.]+\]/);
    expect(text).toContain('Against base:');
    expect(text).toMatch(/QApairs-20\s+\+[0-9.]+ \[\+[0-9.]+, \+[0-9.]+\] p=[<0-9.]+ ▲/);
    // rep appends four words per answer: longer than the references, and cut back.
    const verbosity = rowOf('rep')?.verbosity;
    expect(verbosity?.lengthRatio).toBeGreaterThan(1.2);
    expect(verbosity?.truncatedShare).toBe(100);
    expect(verbosity?.controlled.rouge1).toBeDefined();
    expect(renderStatisticsMarkdown(table)).toContain('### Verbosity');
  });

  it('draws the intervals as error bars', () => {
    const plot = metricPlots(table).find((p) => p.metric === 'bleu');
    const rep = plot?.series.flatMap((s) => s.points).find((p) => p.variant === 'rep');
    const interval = rowOf('rep')?.intervals.bleu;
    expect(rep).toMatchObject({ low: interval?.low, high: interval?.high });
  });

  it('tests against another row with --against, and notes an evaluation without per-question BLEU', async () => {
    const old = await evaluated('old', answers(0.5, 'old'), { trainSize: 50 });
    const file = join(old.sources?.evaluateDir ?? '', EVALUATE_OUTPUT.examples);
    const { readFile } = await import('node:fs/promises');
    const stripped = (await readFile(file, 'utf8'))
      .split('\n')
      .map((l) => {
        const { bleu_stats: _drop, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify(rest);
      })
      .join('\n');
    await writeFile(file, stripped);
    const grouped = groupReplicates([...results, old]);
    const other = buildTable1('stats-test', grouped.results);
    other.statistics = await tableStatistics(other, grouped, { against: 'good', trials: 500 });
    expect(other.statistics.reference?.variant).toBe('good');
    expect(
      other.statistics.rows.find((r) => r.variant === 'base')?.comparison?.bleu?.direction,
    ).toBe('lower');
    expect(
      other.statistics.rows.find((r) => r.variant === 'old')?.comparison?.bleu,
    ).toBeUndefined();
    expect(other.statistics.notes.join('\n')).toContain('QApairs-50: no per-question BLEU');
  });
});
