/**
 * Text from data and specs (variant names, tar member names, captions, paths) can carry
 * terminal escape sequences (ANSI/OSC: colours, window titles, hyperlinks, clearing the screen)
 * and bidirectional controls that make a line read differently from what it is. Everything the
 * CLI prints goes through `terminalSafe`, which shows such characters escaped (`\x1b`, `\u202e`).
 */

// C0 controls except tab and newline, DEL, C1 controls, the bidi embeddings, overrides and
// isolates, the implicit direction marks, and the Unicode line/paragraph separators.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Whole output text: newlines and tabs stay, every other control is shown escaped. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** One value inside a line (a title, a name): newlines are escaped too. */
export function terminalSafeLine(text: string): string {
  return text.replace(UNSAFE_IN_LINE, escape);
}
