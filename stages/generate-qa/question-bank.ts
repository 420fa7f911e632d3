import { readFileSync } from 'node:fs';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { type SeededRandom, seededShuffle } from '../shared/seeded-random.ts';

/**
 * The question bank (question-bank.json, data rather than code so it can be reviewed and
 * extended without touching the stage): the two kinds of the paper, general clinical questions
 * and questions grounded in the figure's own metadata.
 */
export type QuestionKind = 'general' | 'grounded';

export interface BankQuestion {
  id: string;
  kind: QuestionKind;
  text: string;
}

const bankText = readFileSync(new URL('./question-bank.json', import.meta.url), 'utf8');

export const QUESTION_BANK: readonly BankQuestion[] = (
  JSON.parse(bankText) as { questions: BankQuestion[] }
).questions;

/** Enters the stage key: an edited bank is a different output. */
export const QUESTION_BANK_DIGEST = sha256Hex(bankText);

/**
 * `count` distinct questions for one image: one of each kind first (when count allows), the
 * rest from what is left, then shuffled so the kind does not follow from the position.
 * The random stream is per image, so adding an image never changes another image's questions.
 */
export function drawQuestions(
  bank: readonly BankQuestion[],
  count: number,
  random: SeededRandom,
): BankQuestion[] {
  if (count > bank.length) {
    throw new RangeError(`cannot draw ${count} distinct questions from a bank of ${bank.length}`);
  }
  const general = seededShuffle(
    bank.filter((q) => q.kind === 'general'),
    random,
  );
  const grounded = seededShuffle(
    bank.filter((q) => q.kind === 'grounded'),
    random,
  );
  const picked: BankQuestion[] = [];
  if (count >= 2) picked.push(general.shift() as BankQuestion, grounded.shift() as BankQuestion);
  const rest = seededShuffle([...general, ...grounded], random);
  while (picked.length < count) picked.push(rest.shift() as BankQuestion);
  return seededShuffle(picked, random);
}
