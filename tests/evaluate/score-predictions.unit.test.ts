import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeBleu } from '../../stages/evaluate/bleu.ts';
import { computeRouge } from '../../stages/evaluate/rouge.ts';
import { computeSacreBleu } from '../../stages/evaluate/sacrebleu.ts';
import { scoreMetrics, scorePredictionsFile } from '../../stages/evaluate/score-predictions.ts';
import { toyEmbed } from './toy-embed.ts';

const dir = mkdtempSync(join(tmpdir(), 'dermatune-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeLines(name: string, lines: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`,
  );
  return file;
}

const OPTIONS = ['impetigo', 'cellulitis', 'psoriasis', 'tinea corporis'];
const LINES = [
  {
    id: 'q1',
    prediction: 'Honey-crusted plaques typical of impetigo.',
    reference: 'The crusted plaques are typical of impetigo.',
    options: OPTIONS,
    answer_index: 0,
    kind: 'general',
  },
  {
    id: 'q2',
    prediction: 'A warm, spreading cellulitis. Photo courtesy of Dr. A.',
    reference: 'Spreading erythema and warmth suggest cellulitis.',
    options: OPTIONS,
    answer_index: 1,
    kind: 'grounded',
  },
  {
    id: 'q3',
    prediction: 'Probably psoriasis.',
    reference: ['Tinea corporis, a fungal infection.', 'Tinea corporis.'],
    options: OPTIONS,
    answer_index: 3,
    kind: 'grounded',
  },
];

describe('dermatune score core', () => {
  it('scores a predictions file with every metric', async () => {
    const file = writeLines('predictions.jsonl', LINES);
    const scored = await scorePredictionsFile(file, {
      embed: toyEmbed,
      seed: 3,
      encoderName: 'toy',
    });
    if (!scored.ok) throw new Error(scored.error.message);
    const report = scored.value;
    const predictions = LINES.map((l) => l.prediction);
    const references = LINES.map((l) => l.reference);
    expect(report.count).toBe(3);
    expect(report.bleu).toEqual(computeBleu(predictions, references));
    expect(report.sacrebleu).toEqual(computeSacreBleu(predictions, references));
    expect(report.rouge).toEqual(computeRouge(predictions, references).mean);
    expect(report.accuracy?.encoder).toBe('toy');
    expect(report.accuracy?.overall).toMatchObject({ n: 3, correct: 2 });
    expect(report.accuracy?.by_kind.grounded).toMatchObject({ n: 2, correct: 1 });
    expect(report.caption_leak.rate).toBeCloseTo(1 / 3, 12);
    expect(report.examples.map((e) => [e.id, e.predicted_option, e.correct])).toEqual([
      ['q1', 0, true],
      ['q2', 1, true],
      ['q3', 2, false],
    ]);

    const metrics = scoreMetrics(report);
    expect(metrics.accuracy).toBeCloseTo(2 / 3, 12);
    expect(metrics.rougeL).toBe(report.rouge.rougeL);
    expect(metrics.accuracy_grounded).toBe(0.5);
    expect(Object.values(metrics).every(Number.isFinite)).toBe(true);
  });

  it('says why there is no accuracy', async () => {
    const noOptions = writeLines('plain.jsonl', [{ prediction: 'a', reference: 'a' }]);
    const plain = await scorePredictionsFile(noOptions, { embed: toyEmbed });
    expect(plain.ok && plain.value.accuracy_skipped).toBe('no-options');
    const noEncoder = await scorePredictionsFile(writeLines('options.jsonl', LINES));
    expect(noEncoder.ok && noEncoder.value.accuracy_skipped).toBe('no-encoder');
    expect(noEncoder.ok && scoreMetrics(noEncoder.value).accuracy).toBeUndefined();
  });

  it('points at the offending line', async () => {
    const cases: [unknown[], string][] = [
      [[LINES[0], '{not json'], ':2: not valid JSON'],
      [[{ prediction: 1, reference: 'x' }], ':1: `prediction` must be a string'],
      [[{ prediction: 'x', reference: [] }], ':1: `reference` must be'],
      [
        [{ prediction: 'x', reference: 'y', options: OPTIONS, answer_index: 4 }],
        ':1: `answer_index`',
      ],
      [
        [{ prediction: 'x', reference: 'y', options: ['only one'], answer_index: 0 }],
        ':1: `options` needs',
      ],
    ];
    for (const [lines, message] of cases) {
      const scored = await scorePredictionsFile(writeLines('bad.jsonl', lines));
      expect(scored.ok).toBe(false);
      if (!scored.ok) {
        expect(scored.error.reason).toBe('invalid-line');
        expect(scored.error.message).toContain(message);
      }
    }
    const missing = await scorePredictionsFile(join(dir, 'nope.jsonl'));
    expect(!missing.ok && missing.error.reason).toBe('missing-file');
    const empty = await scorePredictionsFile(writeLines('empty.jsonl', []));
    expect(!empty.ok && empty.error.reason).toBe('empty');
  });
});
