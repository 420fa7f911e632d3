import { describe, expect, it } from 'vitest';
import {
  type AccuracyItem,
  cosine,
  semanticAccuracy,
} from '../../stages/evaluate/semantic-accuracy.ts';
import { wilsonInterval } from '../../stages/evaluate/wilson-interval.ts';
import { toyEmbed } from './toy-embed.ts';

const OPTIONS = ['impetigo', 'cellulitis', 'psoriasis', 'tinea corporis'];

function item(id: string, answer: string, answerIndex: number, kind?: string): AccuracyItem {
  return { id, answer, options: OPTIONS, answerIndex, kind };
}

describe('semantic-matching accuracy', () => {
  it('predicts the option the answer is most similar to', async () => {
    const result = await semanticAccuracy(
      [
        item('a', 'This looks like impetigo with honey crusts', 0, 'general'),
        item('b', 'Spreading cellulitis of the leg', 1, 'grounded'),
        item('c', 'A fungal tinea corporis ring', 1, 'grounded'),
      ],
      toyEmbed,
      { seed: 1 },
    );
    expect(result.items.map((m) => m.predictedIndex)).toEqual([0, 1, 3]);
    expect(result.items.map((m) => m.correct)).toEqual([true, true, false]);
    expect(result.overall.correct).toBe(2);
    expect(result.overall.accuracy).toBeCloseTo(2 / 3, 12);
    expect(result.byKind.general).toMatchObject({ n: 1, correct: 1, accuracy: 1 });
    expect(result.byKind.grounded).toMatchObject({ n: 2, correct: 1, accuracy: 0.5 });
  });

  it('breaks ties in a seeded order, the same way every run', async () => {
    // An answer sharing no word with any option ties all four at similarity 0.
    const items = Array.from({ length: 40 }, (_, i) => item(`q${i}`, 'no overlap here', 0));
    const first = await semanticAccuracy(items, toyEmbed, { seed: 7 });
    const again = await semanticAccuracy(items, toyEmbed, { seed: 7 });
    const otherSeed = await semanticAccuracy(items, toyEmbed, { seed: 8 });
    const picks = first.items.map((m) => m.predictedIndex);
    expect(again.items.map((m) => m.predictedIndex)).toEqual(picks);
    expect(otherSeed.items.map((m) => m.predictedIndex)).not.toEqual(picks);
    // A tie must not always land on the stored slot of the correct answer.
    expect(new Set(picks).size).toBeGreaterThan(1);
    expect(first.overall.accuracy).toBeLessThan(0.6);
  });

  it('embeds each distinct text once', async () => {
    const seen: string[] = [];
    await semanticAccuracy(
      [item('a', 'impetigo', 0), item('b', 'impetigo', 0)],
      (texts) => {
        seen.push(...texts);
        return toyEmbed(texts);
      },
      { seed: 0 },
    );
    expect(seen.sort()).toEqual([...OPTIONS].sort());
  });

  it('gives the Wilson 95% interval', () => {
    // Reference values from scipy: binomtest(8, 10).proportion_ci(method='wilson').
    const { low, high } = wilsonInterval(8, 10);
    expect(low).toBeCloseTo(0.4901624715366418, 12);
    expect(high).toBeCloseTo(0.9433178485456248, 12);
    expect(wilsonInterval(0, 5).low).toBe(0);
    expect(wilsonInterval(5, 5).high).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('computes cosine similarity, 0 against a zero vector', () => {
    expect(cosine(Float32Array.of(1, 0), Float32Array.of(1, 1))).toBeCloseTo(Math.SQRT1_2, 6);
    expect(cosine(Float32Array.of(0, 0), Float32Array.of(1, 1))).toBe(0);
  });
});
