import { sha256Hex } from '../../runner/canonical-json.ts';
import { stringBudget } from '../llm/answer-budget.ts';
import { describeFigure, type FigureMetadata } from '../llm/figure-description.ts';
import type { LlmRequest } from '../llm/llm-call.ts';
import type { BankQuestion } from './question-bank.ts';

/**
 * One answer per call, from the figure's metadata only (data curation, step 6: the three
 * questions of an image share no context). The answer must read as if the photograph were in
 * front of the writer, because the fine-tuned model sees the photograph, not the caption; and
 * it must not carry caption noise (figure numbers, credits) into the training data, a weakness
 * the paper's authors name.
 */
const SYSTEM = [
  'You are a dermatologist writing teaching material about clinical photographs of skin conditions.',
  'You are given the description of one photograph from a medical article: its caption, the article text that refers to it, and the article title.',
  'Answer the question as if you were looking at the photograph itself: say what is seen and what it means.',
  'Never mention the caption, the article, its authors, figure or panel labels, arrows, or photo credits.',
  'If the description does not support a confident answer, say what remains uncertain.',
  'Write two to five sentences of plain clinical English. Reply with JSON: {"answer": "..."}.',
].join('\n');

const KIND_GUIDANCE: Record<BankQuestion['kind'], string> = {
  general: 'You may draw on general dermatology knowledge about the condition shown.',
  grounded: "Base the answer on the specific details in this photograph's description.",
};

/** At least a short sentence; at most what fits the token budget (and never past ~5 sentences). */
export function qaAnswerSchema(maxChars: number) {
  return {
    type: 'object',
    properties: { answer: { type: 'string', minLength: 20, maxLength: maxChars } },
    required: ['answer'],
    additionalProperties: false,
  } as const;
}

export const QA_ANSWER_SCHEMA = qaAnswerSchema(1000);

export const QA_PROMPT_DIGEST = sha256Hex(
  `${SYSTEM}\n${JSON.stringify(KIND_GUIDANCE)}\n${JSON.stringify(QA_ANSWER_SCHEMA)}`,
);

export function qaRequest(
  figure: FigureMetadata,
  question: BankQuestion,
  maxOutputTokens = 512,
): LlmRequest {
  return {
    system: SYSTEM,
    prompt: `Description of the photograph:\n${describeFigure(figure)}\n\n${KIND_GUIDANCE[question.kind]}\n\nQuestion: ${question.text}`,
    schema: qaAnswerSchema(stringBudget(maxOutputTokens, 1, 1000)),
  };
}
