import { distance } from 'fastest-levenshtein';
import { sha256Hex } from '../../runner/canonical-json.ts';
import { stringBudget } from '../llm/answer-budget.ts';
import type { LlmRequest } from '../llm/llm-call.ts';

/**
 * The multiple-choice options of the paper's accuracy metric: for a test question and its
 * correct answer, wrong answers a clinician could plausibly give (common misdiagnoses), written
 * like the correct answer so that length and style do not give it away.
 */
const SYSTEM = [
  'You write the wrong options of a multiple-choice dermatology quiz about clinical photographs.',
  'Given a question and its correct answer, write wrong answers that a clinician could plausibly give: common misdiagnoses, look-alike conditions, or mistaken reasoning.',
  'Each wrong answer must be clearly incorrect when compared with the correct answer, must differ from the other wrong answers, and must match the correct answer in style and length.',
  // No placeholder reply here: a small model copies one ("...") as all its options.
  'Reply with JSON: a "distractors" list of the wrong answers, each a short clinical statement.',
].join('\n');

/** Shorter than this is no answer at all (the grammar then cannot emit "..." or "n/a"). */
const MIN_OPTION_CHARS = 12;

export function distractorSchema(count: number, maxChars = 1500) {
  return {
    type: 'object',
    properties: {
      distractors: {
        type: 'array',
        items: { type: 'string', minLength: MIN_OPTION_CHARS, maxLength: maxChars },
        minItems: count,
        maxItems: count,
      },
    },
    required: ['distractors'],
    additionalProperties: false,
  } as const;
}

export const DISTRACTOR_PROMPT_DIGEST = sha256Hex(
  `${SYSTEM}\n${JSON.stringify(distractorSchema(0))}`,
);

/**
 * `rejected` lists earlier options that were too close to the answer or to each other.
 * `lookalikes` names, one per wanted option, the condition each wrong answer mistakes the
 * photograph for: a small model asked for "wrong answers" writes one phrase three times, while
 * one asked to answer as if the photograph showed a named condition writes three different ones.
 */
export function distractorRequest(
  question: string,
  answer: string,
  count: number,
  rejected: readonly string[],
  maxOutputTokens = 512,
  lookalikes: readonly string[] = [],
): LlmRequest {
  const lines = [
    `Question: ${question}`,
    `Correct answer: ${answer}`,
    '',
    `Write ${count} wrong answers.`,
  ];
  if (lookalikes.length > 0) {
    lines.push(
      `Write them as if the photograph showed, in turn: ${lookalikes.slice(0, count).join('; ')}.`,
    );
  }
  if (rejected.length > 0) {
    lines.push(
      'Do not repeat these options, which were too close to the correct answer or to each other:',
    );
    for (const option of rejected) lines.push(`- ${option}`);
  }
  return {
    system: SYSTEM,
    prompt: lines.join('\n'),
    schema: distractorSchema(
      count,
      stringBudget(maxOutputTokens, count, 1500, 2 * MIN_OPTION_CHARS),
    ),
  };
}

/**
 * Two options count as the same when, after normalising case, punctuation and spacing, they
 * are equal, their edit-distance similarity reaches 0.85, or their word sets overlap by 0.8
 * (Jaccard). Either measure alone misses cases: reordered words defeat the edit distance, a
 * changed negation defeats neither, so the thresholds stay conservative.
 */
export const NEAR_EQUAL = { levenshtein: 0.85, jaccard: 0.8 } as const;

export function nearlyEqual(a: string, b: string): boolean {
  const x = normalise(a);
  const y = normalise(b);
  if (x === y) return true;
  const longest = Math.max(x.length, y.length);
  if (longest > 0 && 1 - distance(x, y) / longest >= NEAR_EQUAL.levenshtein) return true;
  const wordsX = new Set(x.split(' '));
  const wordsY = new Set(y.split(' '));
  let shared = 0;
  for (const word of wordsX) if (wordsY.has(word)) shared++;
  const union = wordsX.size + wordsY.size - shared;
  return union > 0 && shared / union >= NEAR_EQUAL.jaccard;
}

function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Splits proposed options into the usable ones (not near the answer, not near an option
 * already kept) and the rejected ones.
 */
export function screenDistractors(
  answer: string,
  kept: readonly string[],
  proposed: readonly string[],
): { accepted: string[]; rejected: string[] } {
  const accepted: string[] = [];
  const rejected: string[] = [];
  for (const option of proposed) {
    const text = option.trim();
    const clash =
      text === '' ||
      nearlyEqual(text, answer) ||
      [...kept, ...accepted].some((other) => nearlyEqual(text, other));
    (clash ? rejected : accepted).push(text);
  }
  return { accepted, rejected };
}
