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
  origin?: DiagnosticOrigin;
}

/** Data, so that planning can group problems by where they come from; `describeOrigin` says it. */
export type DiagnosticOrigin =
  /** A `--set` layer, as the user typed it. */
  | { kind: 'override'; text: string }
  /** The sweep variants whose axis values wrote the value (one, until problems are merged). */
  | { kind: 'variants'; names: readonly string[] }
  /** A file the spec extends, and the spec, both as the user names them. */
  | { kind: 'extended'; file: string; by: string };

/** Variant names listed in full; a longer list is cut and counted. */
const VARIANTS_LISTED = 4;

export function describeOrigin(origin: DiagnosticOrigin): string {
  switch (origin.kind) {
    case 'override':
      return `from the override ${origin.text}`;
    case 'variants': {
      const { names } = origin;
      const list =
        names.length > VARIANTS_LISTED
          ? `${names.slice(0, VARIANTS_LISTED).join(', ')}, ... (${names.length} variants)`
          : names.join(', ');
      return `in variant${names.length > 1 ? 's' : ''} ${list}`;
    }
    case 'extended':
      return `in ${origin.file}, extended by ${origin.by}`;
  }
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
  const origin = diagnostic.origin ? ` (${describeOrigin(diagnostic.origin)})` : '';
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
  const fullLine = span.text.split('\n')[line - 1] ?? '';
  const endOnLine = Math.min(span.end, span.start + Math.max(1, fullLine.length - (col - 1)));
  // A window of the line around the span: a 50 KB one-line list is not printed per error.
  const width = Math.max(1, Math.min(endOnLine - span.start, LINE_CONTEXT));
  const from = Math.max(0, col - 1 - LINE_CONTEXT);
  const to = Math.min(fullLine.length, col - 1 + width + LINE_CONTEXT);
  const head = from > 0 ? '...' : '';
  const lineText = `${head}${fullLine.slice(from, to)}${to < fullLine.length ? '...' : ''}`;
  const gutter = String(line);
  const pad = ' '.repeat(gutter.length);
  return [
    `${file}:${line}:${col}: ${diagnostic.message}${origin}`,
    ` ${gutter} | ${lineText}`,
    ` ${pad} | ${' '.repeat(head.length + col - 1 - from)}${'^'.repeat(width)}`,
  ].join('\n');
}

/** Characters of the source line shown on each side of a span. */
const LINE_CONTEXT = 60;
/** Diagnostics printed in full; the rest are counted (the first ones are the ones to fix). */
export const MAX_SHOWN_DIAGNOSTICS = 20;

export function formatDiagnostics(diagnostics: readonly Diagnostic[], cwd?: string): string {
  const shown = diagnostics.slice(0, MAX_SHOWN_DIAGNOSTICS).map((d) => formatDiagnostic(d, cwd));
  const hidden = diagnostics.length - shown.length;
  if (hidden > 0) shown.push(`... and ${hidden} more problem(s) not shown`);
  return shown.join('\n\n');
}

function relativePath(file: string, cwd: string): string {
  if (file.startsWith('<')) return file;
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel;
}
