import { relative } from 'node:path';
import { LineCounter } from 'yaml';

/**
 * A problem with the user's input, pointing at the exact text that caused it. Every invalid
 * spec, override or argument becomes one of these; the CLI prints them and exits 2.
 */
export interface Diagnostic {
  message: string;
  span?: SourceSpan;
  /** Where the value came from when it was not typed in the file itself (an override, a variant). */
  origin?: string;
}

export interface SourceSpan {
  file: string;
  text: string;
  /** Character offsets into `text`; `end` is exclusive. */
  start: number;
  end: number;
}

/** Renders `file:line:col: message`, then the source line with the span underlined. */
export function formatDiagnostic(diagnostic: Diagnostic, cwd: string = process.cwd()): string {
  const origin = diagnostic.origin ? ` (${diagnostic.origin})` : '';
  const { span } = diagnostic;
  if (!span) return `error: ${diagnostic.message}${origin}`;
  const counter = new LineCounter();
  let offset = 0;
  for (const line of span.text.split('\n')) {
    counter.addNewLine(offset);
    offset += line.length + 1;
  }
  const { line, col } = counter.linePos(span.start);
  const file = relativePath(span.file, cwd);
  const lineText = span.text.split('\n')[line - 1] ?? '';
  const endOnLine = Math.min(span.end, span.start + Math.max(1, lineText.length - (col - 1)));
  const width = Math.max(1, endOnLine - span.start);
  const gutter = String(line);
  const pad = ' '.repeat(gutter.length);
  return [
    `${file}:${line}:${col}: ${diagnostic.message}${origin}`,
    ` ${gutter} | ${lineText}`,
    ` ${pad} | ${' '.repeat(col - 1)}${'^'.repeat(width)}`,
  ].join('\n');
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[], cwd?: string): string {
  return diagnostics.map((d) => formatDiagnostic(d, cwd)).join('\n\n');
}

function relativePath(file: string, cwd: string): string {
  if (file.startsWith('<')) return file;
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel;
}
