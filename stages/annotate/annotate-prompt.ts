import { sha256Hex } from '../../runner/canonical-json.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { stringBudget } from '../llm/answer-budget.ts';
import { describeFigure } from '../llm/figure-description.ts';
import type { LlmRequest } from '../llm/llm-call.ts';
import { findCategory, SKIN_CATEGORIES, UNSPECIFIED_CATEGORY } from '../shared/categories.ts';

/**
 * The labelling call of the paper (data curation, step 4): the category list and the figure's
 * metadata, never the pixels unless `send_images` is on; one category, by number and name,
 * with a short reason.
 */
const SYSTEM = [
  'You are a dermatologist sorting clinical photographs from open-access medical articles.',
  "For each photograph you get only its metadata: the figure caption, the article paragraphs that refer to the figure, and the article's title and journal.",
  'Decide which one of the 29 categories below best names the skin condition the photograph shows.',
  'Use 29 when the metadata does not say what condition is shown, or the figure is not of a skin condition.',
  'Reply with JSON: category_number (1-29), category_name (exactly as listed), and reasoning: one or two sentences naming the words in the metadata that decided it.',
  '',
  'Categories:',
  ...SKIN_CATEGORIES.map((c) => `${c.number}. ${c.name}`),
].join('\n');

/**
 * The name is capped at the longest in the list (an out-of-list name is still an answer, kept
 * as such), and the reasoning at what fits the token budget after the number and the name, so a
 * small output budget ends the JSON in time instead of arriving truncated and being retried.
 */
export function annotationSchema(maxOutputTokens: number) {
  return {
    type: 'object',
    properties: {
      category_number: { type: 'integer' },
      category_name: { type: 'string', maxLength: LONGEST_NAME },
      reasoning: {
        type: 'string',
        maxLength: stringBudget(maxOutputTokens - NUMBER_AND_NAME_TOKENS, 1, 400),
      },
    },
    required: ['category_number', 'category_name', 'reasoning'],
    additionalProperties: false,
  } as const;
}

const LONGEST_NAME = Math.max(...SKIN_CATEGORIES.map((c) => c.name.length));
/** The longest category name is about a dozen tokens; its number and quotes a few more. */
const NUMBER_AND_NAME_TOKENS = 16;

export const ANNOTATION_SCHEMA = annotationSchema(512);

/** Enters the stage key: a change of wording is a change of output. */
export const ANNOTATE_PROMPT_DIGEST = sha256Hex(`${SYSTEM}\n${JSON.stringify(ANNOTATION_SCHEMA)}`);

export function annotationRequest(record: CuratedRecord, maxOutputTokens = 512): LlmRequest {
  return {
    system: SYSTEM,
    prompt: describeFigure(record),
    schema: annotationSchema(maxOutputTokens),
  };
}

/** A row of annotations.jsonl, as select reads it. */
export interface AnnotationRow {
  key: string;
  category_number: number;
  category_name: string;
  reasoning: string;
  /** Set when the answer could not be used as given and the row fell back to category 29. */
  fallback?: 'unparseable' | 'out-of-list';
  /** The model's own answer, kept whenever it was not used verbatim. */
  raw?: string;
}

/**
 * The category the answer names: by number when it is 1-29 (the name is an echo and may be
 * misspelt), else by name, else 29 with the raw answer kept.
 */
export function interpretAnnotation(key: string, value: unknown, raw: string): AnnotationRow {
  const answer = value as {
    category_number?: unknown;
    category_name?: unknown;
    reasoning?: unknown;
  };
  const reasoning = typeof answer.reasoning === 'string' ? answer.reasoning.trim() : '';
  const byNumber =
    typeof answer.category_number === 'number' ? findCategory(answer.category_number) : undefined;
  const byName =
    typeof answer.category_name === 'string' ? findCategory(answer.category_name) : undefined;
  const category = byNumber ?? byName;
  if (!category) {
    return {
      key,
      category_number: UNSPECIFIED_CATEGORY.number,
      category_name: UNSPECIFIED_CATEGORY.name,
      reasoning,
      fallback: 'out-of-list',
      raw,
    };
  }
  const row: AnnotationRow = {
    key,
    category_number: category.number,
    category_name: category.name,
    reasoning,
  };
  if (category !== byName) row.raw = raw;
  return row;
}

/** An answer that never parsed: category 29, with whatever the model last wrote. */
export function unparseableAnnotation(key: string, raw: string | undefined): AnnotationRow {
  return {
    key,
    category_number: UNSPECIFIED_CATEGORY.number,
    category_name: UNSPECIFIED_CATEGORY.name,
    reasoning: '',
    fallback: 'unparseable',
    raw: raw ?? '',
  };
}
