/**
 * Text from data and specs (variant names, tar member names, captions, paths) can carry
 * terminal escape sequences (ANSI/OSC: colours, window titles, hyperlinks, clearing the screen)
 * and bidirectional controls that make a line read differently from what it is. Everything the
 * CLI prints goes through `terminalSafe`, which shows such characters escaped (`\x1b`, `\u202e`).
 */

/**
 * C0 controls, DEL, C1 controls, the bidi embeddings, overrides and isolates, the implicit
 * direction marks, and the Unicode line and paragraph separators.
 */
function unsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * C0 controls as `\x1b`; the rest as `\u007f`, `\u202e`, which is also a valid escape inside a
 * JSON string (JSON.stringify escapes C0 itself), so `--json` output stays parseable.
 */
function escaped(code: number): string {
  return code < 0x20
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

function sanitise(text: string, keep: (code: number) => boolean): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unsafe(code) || keep(code)) continue;
    out += text.slice(start, i) + escaped(code);
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

/** Whole output text: newlines and tabs stay, every other control is shown escaped. */
export function terminalSafe(text: string): string {
  return sanitise(text, (code) => code === 0x0a || code === 0x09);
}

/** One value inside a line (a title, a name): newlines are escaped too. */
export function terminalSafeLine(text: string): string {
  return sanitise(text, () => false);
}
