import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageContext, StageInputOutput, StageReport } from '../../runner/stage-kind.ts';
import type { EvaluateParams } from '../../stages/evaluate/contract.ts';
import { EVALUATE_OUTPUT } from '../../stages/evaluate/contract.ts';
import { ensureEncoderModel } from '../../stages/evaluate/encoders/ensure-encoder-model.ts';
import { runEvaluate } from '../../stages/evaluate/run-evaluate.ts';

const work = mkdtempSync(join(tmpdir(), 'dermatune-evaluate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** On a fresh clone the first use installs the Python venv and exports the encoder. */
beforeAll(async () => {
  const files = await ensureEncoderModel('all-MiniLM-L6-v2');
  if (!files.ok) throw new Error(files.error.message);
}, 20 * 60_000);

const PARAMS: EvaluateParams = {
  seed: 3,
  eval: {
    bleu: { smooth: false },
    rouge: { use_stemmer: false },
    bertscore: { model: 'all-MiniLM-L6-v2', rescale_with_baseline: false, idf: false },
    encoder: { model: 'all-MiniLM-L6-v2' },
  },
};

const OPTIONS = [
  'Impetigo, a superficial bacterial skin infection',
  'Cellulitis of the lower leg',
  'Plaque psoriasis',
  'Tinea corporis (ringworm)',
];

/** Rows as the generate stage writes them (the split's test rows plus `prediction`). */
const PREDICTIONS = [
  {
    key: 'PMC1_F1',
    question_id: 'g1',
    question: 'What is the likely diagnosis?',
    answer: 'Impetigo with honey-coloured crusts.',
    reference: 'Impetigo with honey-coloured crusts.',
    prediction: 'Honey-coloured crusts over erosions suggest impetigo.',
    kind: 'general',
  },
  {
    key: 'PMC2_F1',
    question_id: 'd3',
    question: 'What does the appearance suggest?',
    answer: 'A spreading cellulitis of the leg.',
    reference: 'A spreading cellulitis of the leg.',
    prediction: 'A red, warm, swollen leg: this is cellulitis. Photo courtesy of Dr. A.',
    kind: 'grounded',
  },
  {
    key: 'PMC3_F2',
    question_id: 'g2',
    question: 'Which conditions look similar?',
    answer: 'Tinea and eczema can look similar.',
    reference: 'Tinea and eczema can look similar.',
    prediction: 'Eczema may look similar.',
    kind: 'general',
  },
];

const DISTRACTORS = [
  { key: 'PMC1_F1', question_id: 'g1', options: OPTIONS, answer_index: 0 },
  { key: 'PMC2_F1', question_id: 'd3', options: OPTIONS, answer_index: 1 },
];

async function context(params: EvaluateParams, files: Record<string, Record<string, unknown[]>>) {
  const inputs: Record<string, StageInputOutput> = {};
  for (const [name, contents] of Object.entries(files)) {
    const dir = join(work, `${name}-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir);
    for (const [file, rows] of Object.entries(contents)) {
      writeFileSync(join(dir, file), rows.map((r) => JSON.stringify(r)).join('\n'));
    }
    inputs[name] = { dir, key: `key-${name}`, kind: name };
  }
  const outDir = await mkdtemp(join(work, 'out-'));
  const reports: StageReport[] = [];
  const memo = new Map<string, unknown>();
  const ctx: StageContext<EvaluateParams> = {
    params,
    inputs,
    outDir,
    key: 'evaluate-key',
    signal: new AbortController().signal,
    memo: {
      get: async <T>(ns: string, key: string) => memo.get(`${ns}/${key}`) as T | undefined,
      put: async (ns, key, value) => {
        memo.set(`${ns}/${key}`, value);
      },
    },
    logFile: join(outDir, 'stage.log'),
    cacheDir: join(work, 'cache'),
    report: (event) => reports.push(event),
  };
  return { ctx, reports };
}

describe('evaluate stage', () => {
  it('scores predictions with BERTScore and the accuracy on joined options', async () => {
    const { ctx, reports } = await context(PARAMS, {
      predictions: { 'predictions.jsonl': PREDICTIONS },
      distractors: { 'distractors.jsonl': DISTRACTORS },
    });
    const result = await runEvaluate(ctx);
    if (!result.ok) throw new Error(result.error.message);
    const { metrics, stats } = result.value;
    expect(metrics?.count).toBe(3);
    expect(metrics?.accuracy).toBe(1);
    expect(metrics?.bertscore_f1).toBeGreaterThan(0.3);
    expect(metrics?.bertscore_f1).toBeLessThan(1);
    expect(metrics?.caption_leak_rate).toBeCloseTo(1 / 3, 12);
    expect(stats).toMatchObject({
      lines_without_options: 1,
      bertscore_model: 'sentence-transformers/all-MiniLM-L6-v2',
      bertscore_layer: 6,
      encoder: 'sentence-transformers/all-MiniLM-L6-v2',
    });

    const written = JSON.parse(readFileSync(join(ctx.outDir, EVALUATE_OUTPUT.metrics), 'utf8'));
    expect(written.rouge.rougeL).toBe(metrics?.rougeL);
    expect(written.accuracy.overall.n).toBe(2);
    const examples = readFileSync(join(ctx.outDir, EVALUATE_OUTPUT.examples), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(examples.map((e) => e.predicted_option)).toEqual([0, 1, undefined]);
    expect(examples.every((e) => typeof e.bertscore_f1 === 'number')).toBe(true);
    // Version 2: per-line BLEU statistics, intervals (tracked as eval/*_ci_*), the cut view.
    expect(examples.every((e) => Array.isArray(e.bleu_stats) && e.bleu_stats.length === 10)).toBe(
      true,
    );
    expect(written.intervals).toMatchObject({ resamples: 1000, level: 0.95 });
    expect(metrics?.bertscore_f1_ci_low).toBeLessThanOrEqual(metrics?.bertscore_f1 ?? 0);
    expect(metrics?.bleu_ci_high).toBeGreaterThanOrEqual(metrics?.bleu ?? 1);
    expect(typeof metrics?.lc_bertscore_f1).toBe('number');
    expect(reports.at(-1)).toMatchObject({ type: 'progress', done: 2, total: 2 });
  });

  it('refuses baseline rescaling it cannot do, and missing predictions', async () => {
    const rescale = await context(
      {
        ...PARAMS,
        eval: {
          ...PARAMS.eval,
          bertscore: { ...PARAMS.eval.bertscore, rescale_with_baseline: true },
        },
      },
      { predictions: { 'predictions.jsonl': PREDICTIONS } },
    );
    const refused = await runEvaluate(rescale.ctx);
    expect(!refused.ok && refused.error.reason).toBe('invalid-input');

    const empty = await context(PARAMS, { predictions: {} });
    const missing = await runEvaluate(empty.ctx);
    expect(!missing.ok && missing.error.reason).toBe('invalid-input');
  });

  it("reports the encoder set-up's lines, and names why it failed", async () => {
    const outcomes: Record<string, string> = {};
    for (const reason of [
      'hub-unreachable',
      'hub-unauthorized',
      'encoder-offline',
      'export-failed',
    ]) {
      const { ctx, reports } = await context(PARAMS, {
        predictions: { 'predictions.jsonl': PREDICTIONS },
      });
      const refused = await runEvaluate(ctx, {
        sentenceEncoder: async () => ({ ok: false, error: { reason, message: 'unused' } }),
        bertScorer: async (_settings, log) => {
          log?.('downloading roberta-large@abc (config.json)');
          return { ok: false, error: { reason, message: `set-up: ${reason}` } };
        },
      });
      if (refused.ok) throw new Error('set-up failure not reported');
      outcomes[reason] = refused.error.reason;
      expect(refused.error.message).toBe(`set-up: ${reason}`);
      expect(reports).toContainEqual({
        type: 'log',
        level: 'info',
        message: 'downloading roberta-large@abc (config.json)',
      });
    }
    expect(outcomes).toEqual({
      'hub-unreachable': 'external-service',
      'hub-unauthorized': 'missing-credentials',
      'encoder-offline': 'missing-model',
      'export-failed': 'worker-error',
    });
  });
});
