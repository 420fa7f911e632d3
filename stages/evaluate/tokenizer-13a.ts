import { pythonSplit } from './python-text.ts';

/**
 * The mteval-v13a tokenizer as sacreBLEU implements it (`Tokenizer13a` + `TokenizerRegexp`),
 * which Hugging Face `evaluate`'s `bleu` carries as a verbatim copy. Returns the tokens;
 * sacreBLEU joins them with spaces and splits again, which yields the same list.
 */
export function tokenize13a(line: string): readonly string[] {
  const cached = cache.get(line);
  if (cached !== undefined) return cached;
  const tokens = tokenizeUncached(line);
  // Bounded like sacreBLEU's lru_cache(2**16); the same answers are tokenized for both BLEU
  // flavours and, across models, the same references again.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(line, tokens);
  return tokens;
}

const CACHE_LIMIT = 2 ** 16;
const cache = new Map<string, readonly string[]>();

function tokenizeUncached(line: string): string[] {
  let text = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (text.includes('&')) {
    text = text
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
  }
  text = ` ${text} `;
  // The `u` flag makes the classes match code points, as Python's `re` does on `str`.
  text = text.replace(ASCII_PUNCTUATION, ' $1 ');
  if (text.includes('.') || text.includes(',')) {
    text = text.replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ');
    text = text.replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2');
  }
  if (text.includes('-')) text = text.replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return pythonSplit(text);
}

/** Symbols and punctuation of ASCII except period, comma and dash (with the space, harmless). */
const ASCII_PUNCTUATION = /([{-~[-` -&(-+:-@/])/gu;
/** Period and comma are split off unless between digits (`3.5`, `1,000` stay whole). */
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/gu;
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/gu;
const DASH_AFTER_DIGIT = /([0-9])(-)/gu;
