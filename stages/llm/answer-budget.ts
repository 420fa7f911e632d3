/**
 * The longest a string field of a structured answer may be and still let the JSON close within
 * `max_output_tokens`. With the cap in the schema, a local grammar (or a remote response
 * schema) ends a long answer in time instead of letting it run into the token limit and arrive
 * as malformed JSON, which would be retried and paid for again. Assumes at least 3 characters
 * per token (English under BPE tokenizers averages about 4) and a few tokens of JSON per field.
 */
export function stringBudget(
  maxOutputTokens: number,
  fields: number,
  ceiling: number,
  floor = 20,
): number {
  const overheadTokens = 8 + 6 * fields;
  const chars = Math.floor(((maxOutputTokens - overheadTokens) * 3) / Math.max(1, fields));
  return Math.max(floor, Math.min(ceiling, chars));
}
