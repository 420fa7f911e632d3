import { describe, expect, it } from 'vitest';
import { answerLengthStats } from '../../stages/evaluate/answer-length.ts';
import { captionLeakStats, captionLeaks } from '../../stages/evaluate/caption-leak.ts';
import { repetitionStats } from '../../stages/evaluate/repetition.ts';

describe('repetition', () => {
  it('scores a looping answer high and a varied one zero', () => {
    const looping = repetitionStats(['the lesion is red the lesion is red the lesion is red']);
    // 12 words, 4 distinct: rep-1 = 1 - 4/12; 11 bigrams, 4 distinct: rep-2 = 1 - 4/11.
    expect(looping.rep.rep_1).toBeCloseTo(1 - 4 / 12, 12);
    expect(looping.rep.rep_2).toBeCloseTo(1 - 4 / 11, 12);
    const varied = repetitionStats(['a honey crusted plaque on the cheek']);
    expect(varied.rep).toEqual({ rep_1: 0, rep_2: 0, rep_3: 0, rep_4: 0 });
  });

  it('measures distinct-n across answers', () => {
    const same = repetitionStats(['impetigo of the face', 'impetigo of the face']);
    expect(same.distinct_1).toBe(0.5);
    const different = repetitionStats(['impetigo of the face', 'cellulitis in a leg']);
    expect(different.distinct_1).toBe(1);
  });

  it('skips answers too short for an order and survives an empty list', () => {
    expect(repetitionStats(['one', '']).rep.rep_4).toBe(0);
    expect(repetitionStats([]).distinct_2).toBe(0);
  });
});

describe('answer length', () => {
  it('counts words like rouge_score and compares with the references', () => {
    const stats = answerLengthStats(
      ['Red, crusted plaque.', 'Impetigo', ''],
      ['a b', 'c d', 'e f'],
    );
    expect(stats.words_mean).toBe(4 / 3);
    expect(stats.words_median).toBe(1);
    expect(stats.empty_share).toBeCloseTo(1 / 3, 12);
    expect(stats.words_ratio_to_reference).toBeCloseTo(4 / 3 / 2, 12);
  });
});

describe('caption leak', () => {
  it.each([
    ['Photo courtesy of Dr. Smith.', 'credit'],
    ['Reproduced with permission from Elsevier.', 'credit'],
    ['© 2019 the authors', 'credit'],
    ['As shown in Fig. 2b, the plaque spreads.', 'figure-label'],
    ['See Figure 3 for the follow-up.', 'figure-label'],
    ['Panel B shows dermoscopy.', 'panel-label'],
    ['Erythema (A) and crusts (B).', 'panel-label'],
    ['Crusted plaques (a-c) on the arm.', 'panel-label'],
    ['Arrows indicate the pustules.', 'annotation-marker'],
    ['Scale bar, 1 cm.', 'annotation-marker'],
  ])('finds the artefact in %j', (answer, kind) => {
    expect(captionLeaks(answer)).toContain(kind);
  });

  it.each([
    'The image shows a honey-crusted plaque typical of impetigo.',
    'Figures of speech aside, this is cellulitis.',
    'A painful nodule (a furuncle) on the neck.',
    'The patient should be seen again in 48 hours.',
  ])('leaves a clean answer alone: %j', (answer) => {
    expect(captionLeaks(answer)).toEqual([]);
  });

  it('gives the share of answers with any artefact and per kind', () => {
    const stats = captionLeakStats([
      'clean answer',
      'Photo by J. Doe. Fig. 1',
      'Panel A: close-up',
    ]);
    expect(stats.rate).toBeCloseTo(2 / 3, 12);
    expect(stats.by_kind.credit).toBeCloseTo(1 / 3, 12);
    expect(stats.by_kind['figure-label']).toBeCloseTo(1 / 3, 12);
    expect(stats.by_kind['panel-label']).toBeCloseTo(1 / 3, 12);
  });
});
