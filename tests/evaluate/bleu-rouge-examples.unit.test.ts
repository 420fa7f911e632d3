import { describe, expect, it } from 'vitest';
import { computeBleu } from '../../stages/evaluate/bleu.ts';
import { porterStem } from '../../stages/evaluate/porter-stemmer.ts';
import { rougeTokenize, scoreRouge } from '../../stages/evaluate/rouge.ts';
import { computeSacreBleu } from '../../stages/evaluate/sacrebleu.ts';
import { tokenize13a } from '../../stages/evaluate/tokenizer-13a.ts';

// Readable examples; the exhaustive comparison with the Python references is parity.test.ts.
describe('BLEU and ROUGE by example', () => {
  it("matches the example in evaluate's bleu documentation", () => {
    const result = computeBleu(
      ['hello there general kenobi', 'foo bar foobar'],
      [['hello there general kenobi', 'hello there!'], ['foo bar foobar']],
    );
    expect(result.bleu).toBe(1);
    expect(result.translation_length).toBe(7);
  });

  it('tokenizes with 13a: punctuation split off, numbers and hyphenated words kept whole', () => {
    // The same list as sacrebleu's Tokenizer13a()(text).split().
    const expected = 'It costs $ 3.50 , i . e . 1,000 cents-ish .'.split(' ');
    expect(tokenize13a('It costs $3.50, i.e. 1,000 cents-ish.')).toEqual(expected);
  });

  it('scores an empty corpus and an empty answer as zero', () => {
    expect(computeBleu([], []).bleu).toBe(0);
    expect(computeBleu([''], ['impetigo']).bleu).toBe(0);
    expect(computeSacreBleu([''], ['impetigo']).score).toBe(0);
    expect(scoreRouge('impetigo', '').rougeL.fmeasure).toBe(0);
  });

  it('gives sacreBLEU a different number from evaluate on short answers (smoothing, lengths)', () => {
    // No 4-gram matches: evaluate's unsmoothed BLEU is 0, sacreBLEU's exp smoothing is not
    // (28.98580955281284 from sacrebleu.corpus_bleu).
    const predictions = ['a crusted impetigo plaque on the face'];
    const references = ['a crusted plaque of impetigo on the face'];
    expect(computeBleu(predictions, references).bleu).toBe(0);
    expect(computeSacreBleu(predictions, references).score).toBeCloseTo(28.98580955281284, 12);
  });

  it('tokenizes for ROUGE like rouge_score, stemming words longer than 3 letters', () => {
    expect(rougeTokenize('Café: honey-crusted PLAQUES!')).toEqual([
      'caf',
      'honey',
      'crusted',
      'plaques',
    ]);
    expect(rougeTokenize('crusted plaques are spreading', true)).toEqual([
      'crust',
      'plaqu',
      'are',
      'spread',
    ]);
    expect(porterStem('generalizations')).toBe('gener');
  });

  it('computes ROUGE-L from the longest common subsequence', () => {
    const score = scoreRouge('the cat sat on the mat', 'the cat lay on the mat');
    expect(score.rougeL.fmeasure).toBeCloseTo(5 / 6, 12);
    expect(score.rouge2.fmeasure).toBeCloseTo(3 / 5, 12);
  });
});
