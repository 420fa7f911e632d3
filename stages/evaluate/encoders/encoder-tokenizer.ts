import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/**
 * The model's own tokenizer (its `tokenizer.json`, run by tokenizers.js, the implementation
 * transformers.js uses), with truncation done here the way transformers does it for a single
 * sequence: the content is cut so that content plus the special tokens fit `maxLength`.
 * tokenizers.js ignores the truncation block of `tokenizer.json`, and so does transformers
 * when a caller passes its own `max_length`, which both references do.
 */
export interface EncoderTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** The tokenizer's `model_max_length` (bert_score truncates there). */
  readonly modelMaxLength: number;
  /** `[CLS] content [SEP]` (or `<s> content </s>`), at most `maxLength` ids. */
  encode(text: string, maxLength: number): number[];
  /**
   * Ids as `bert_score.utils.sent_encode` makes them: the text stripped, an empty text as the
   * special tokens alone, a leading space for byte-level (RoBERTa, GPT-2) tokenizers.
   */
  encodeForBertScore(text: string): number[];
}

export async function loadEncoderTokenizer(
  dir: string,
  modelType: string,
): Promise<EncoderTokenizer> {
  const [tokenizerJson, configJson] = await Promise.all([
    readFile(join(dir, 'tokenizer.json'), 'utf8'),
    // Older hub repos (roberta-large among them) carry no tokenizer_config.json: defaults then.
    readFile(join(dir, 'tokenizer_config.json'), 'utf8').catch(() => '{}'),
  ]);
  const config = JSON.parse(configJson) as Record<string, unknown>;
  const tokenizer = new Tokenizer(JSON.parse(tokenizerJson), config);
  const idOf = (key: string, fallback: string): number => {
    const token = typeof config[key] === 'string' ? (config[key] as string) : fallback;
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new Error(`tokenizer in ${dir} has no ${key} '${token}'`);
    return id;
  };
  const byteLevel = modelType === 'roberta' || modelType === 'gpt2';
  const clsId = idOf('cls_token', byteLevel ? '<s>' : '[CLS]');
  const sepId = idOf('sep_token', byteLevel ? '</s>' : '[SEP]');
  const padId = idOf('pad_token', byteLevel ? '<pad>' : '[PAD]');
  const declared = Number(config.model_max_length);
  // Some configs carry a huge sentinel for "no limit"; the position table is the real one.
  const modelMaxLength = Number.isFinite(declared) && declared < 1e6 ? declared : 512;

  const encode = (text: string, maxLength: number): number[] => {
    const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
    return [clsId, ...content.slice(0, Math.max(0, maxLength - 2)), sepId];
  };
  return {
    clsId,
    sepId,
    padId,
    modelMaxLength,
    encode,
    encodeForBertScore(text: string): number[] {
      const stripped = pythonStrip(text);
      if (stripped === '') return [clsId, sepId];
      return encode(byteLevel ? ` ${stripped}` : stripped, modelMaxLength);
    },
  };
}

/**
 * Python's `str.strip()`: its whitespace set (`str.isspace`) differs from JavaScript's
 * `trim()` (Python strips U+001C..U+001F and U+0085, and keeps U+FEFF).
 */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

function isPythonSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}
