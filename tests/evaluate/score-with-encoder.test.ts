import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSentenceEncoder,
  type SentenceEncoder,
} from '../../stages/evaluate/encoders/sentence-encoder.ts';
import { scorePredictions } from '../../stages/evaluate/score-predictions.ts';

/**
 * The accuracy seam with the real sentence encoder (all-MiniLM-L6-v2 exported to ONNX from
 * its PyPI package): free answers that paraphrase one option pick that option.
 */
let encoder: SentenceEncoder;
beforeAll(async () => {
  const created = await createSentenceEncoder();
  if (!created.ok) throw new Error(`${created.error.reason}: ${created.error.message}`);
  encoder = created.value;
  // On a fresh clone the first use installs the Python venv and exports the encoder.
}, 20 * 60_000);
afterAll(async () => {
  await encoder?.release();
});

const OPTIONS = [
  'Impetigo, a superficial bacterial skin infection',
  'Cellulitis of the lower leg',
  'Plaque psoriasis',
  'Tinea corporis (ringworm)',
];

describe('score with the sentence encoder', () => {
  it('matches paraphrased answers to their options and records the encoder', async () => {
    const report = await scorePredictions(
      [
        ['Honey-coloured crusts over erosions suggest impetigo.', 0, 'general'],
        ['A red, warm, swollen leg: this is cellulitis.', 1, 'grounded'],
        ['An annular scaly ring typical of a fungal infection, ringworm.', 3, 'grounded'],
        ['Silvery scales on sharply bordered plaques over the elbows.', 2, 'general'],
      ].map(([prediction, answerIndex, kind], i) => ({
        id: `q${i}`,
        prediction: prediction as string,
        reference: OPTIONS[answerIndex as number] as string,
        options: OPTIONS,
        answer_index: answerIndex as number,
        kind: kind as string,
      })),
      { embed: (texts) => encoder.embed(texts), encoderName: encoder.modelId, seed: 1 },
    );
    expect(report.accuracy?.encoder).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(report.examples.map((e) => e.predicted_option)).toEqual([0, 1, 3, 2]);
    expect(report.accuracy?.overall.accuracy).toBe(1);
  });
});
