import { seededRandom, seededShuffle } from '../shared/seeded-random.ts';
import { screenDistractors } from './distractor-prompt.ts';
import type { DistractorRow, TestQa } from './run-distractors.ts';

// The options that come from the test set itself rather than the LLM, and how any set of
// options becomes a row of distractors.jsonl: shared by the LLM kind (its fallback) and the
// LLM-free kind (`eval.distractor_source: other_answers`).

/**
 * `eval.distractor_fallback: other_answers`: the options the LLM could not write are taken from
 * the answers other test figures got to the same bank question (then to any question), in a
 * seeded order, through the same screen as the LLM's options. They share the answer's style and
 * length by construction, which a weak local model's options do not; they are about another
 * photograph, so they are wrong for this one unless two figures look alike, which the screen
 * catches only when the texts are close. Undefined when even they cannot complete the set.
 */
export function fillFromOtherAnswers(
  row: TestQa,
  kept: readonly string[],
  count: number,
  rows: readonly TestQa[],
  seed: number,
): string[] | undefined {
  const questionId = row.question_id ?? row.question;
  const others = rows.filter((other) => other.key !== row.key);
  const order = (pool: readonly TestQa[], stream: string) =>
    seededShuffle(
      pool.map((other) => other.answer),
      seededRandom(seed, `distractors:fallback:${stream}:${row.key}#${questionId}`),
    );
  const sameQuestion = others.filter((o) => (o.question_id ?? o.question) === questionId);
  const anyQuestion = others.filter((o) => (o.question_id ?? o.question) !== questionId);
  const options = [...kept];
  for (const candidate of [...order(sameQuestion, 'same'), ...order(anyQuestion, 'any')]) {
    if (options.length >= count) break;
    const screened = screenDistractors(row.answer, options, [candidate]);
    options.push(...screened.accepted);
  }
  return options.length >= count ? options : undefined;
}

/** The options in a seeded order, the right answer among them at a seeded place. */
export function optionRow(
  row: TestQa,
  distractors: string[],
  count: number,
  seed: number,
): DistractorRow {
  const questionId = row.question_id ?? row.question;
  const random = seededRandom(seed, `distractors:${row.key}#${questionId}`);
  const answerIndex = random.below(count + 1);
  const options = [...distractors];
  options.splice(answerIndex, 0, row.answer);
  return {
    key: row.key,
    question_id: questionId,
    question: row.question,
    answer: row.answer,
    options,
    answer_index: answerIndex,
    distractors,
  };
}
