/**
 * Python's notion of whitespace (`str.isspace`), which `str.split()` and `str.rstrip()` use.
 * It differs from JavaScript's `\s`: Python also counts U+001C..U+001F and U+0085, and does
 * not count U+FEFF. The reference implementations split and strip with it, so we must too.
 */
const PYTHON_WHITESPACE =
  '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const RUNS_OF_WHITESPACE = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'u');
const TRAILING_WHITESPACE = new RegExp(`[${PYTHON_WHITESPACE}]+$`, 'u');

/** `text.split()` in Python: split on runs of whitespace, no empty tokens. */
export function pythonSplit(text: string): string[] {
  const parts = text.split(RUNS_OF_WHITESPACE);
  let start = 0;
  let end = parts.length;
  if (end > 0 && parts[0] === '') start = 1;
  if (end > start && parts[end - 1] === '') end -= 1;
  return start === 0 && end === parts.length ? parts : parts.slice(start, end);
}

/** `text.rstrip()` in Python. */
export function pythonRstrip(text: string): string {
  return text.replace(TRAILING_WHITESPACE, '');
}
