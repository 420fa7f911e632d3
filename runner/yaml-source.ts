import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import type { Diagnostic, SourceSpan } from './diagnostic.ts';
import { fail, ok, type Result } from './result.ts';

/**
 * A parsed YAML file that remembers where every value came from, so validation errors can
 * point at `file:line:col`. Parsing is hardened for untrusted input: duplicate keys, custom
 * tags, alias bombs and huge files are refused.
 */
export interface YamlSource {
  file: string;
  text: string;
  document: Document.Parsed;
  value: unknown;
}

/** Specs are hand-written; anything this large is a mistake or an attack. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** Enough for anchors shared across a sweep, far below what a "billion laughs" file needs. */
const MAX_ALIAS_COUNT = 100;

export function parseYamlSource(file: string, text: string): Result<YamlSource, Diagnostic[]> {
  if (Buffer.byteLength(text) > MAX_SPEC_BYTES) {
    return fail([
      {
        message: `the file is ${Buffer.byteLength(text)} bytes; specs are limited to ${MAX_SPEC_BYTES} bytes`,
        span: { file, text, start: 0, end: 0 },
      },
    ]);
  }
  const document = parseDocument(text, {
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    // Only the core schema: `!!js/function` and friends never construct anything.
    schema: 'core',
    customTags: [],
  });
  const problems: Diagnostic[] = [];
  for (const error of document.errors) {
    problems.push({
      message: yamlMessage(error.code, error.message),
      span: { file, text, start: error.pos[0], end: error.pos[1] },
    });
  }
  for (const warning of document.warnings) {
    // Unresolved tags are only a warning to the yaml library; for us they are refused input.
    problems.push({
      message: yamlMessage(warning.code, warning.message),
      span: { file, text, start: warning.pos[0], end: warning.pos[1] },
    });
  }
  // `{a: 1}: x` or `? [a]`: a mapping or list as a key has no meaning in a spec (and the yaml
  // library would print a warning quoting it raw).
  visit(document, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        const range = (pair.key as Node).range ?? [0, 0];
        problems.push({
          message: 'a key must be a plain name, not a mapping or a list',
          span: { file, text, start: range[0], end: range[1] },
        });
      }
    },
  });
  if (problems.length > 0) return fail(problems);
  try {
    const value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return ok({ file, text, document, value });
  } catch (error) {
    if (error instanceof ReferenceError || error instanceof TypeError) {
      return fail([
        {
          message: `too many alias expansions (more than ${MAX_ALIAS_COUNT}); refusing a file that would blow up in memory`,
          span: { file, text, start: 0, end: 0 },
        },
      ]);
    }
    throw error;
  }
}

function yamlMessage(code: string, message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'duplicate key: each key may appear once in a mapping';
    case 'TAG_RESOLVE_FAILED':
      return `custom YAML tags are not allowed (${firstLine.replace(/ at line.*$/, '')})`;
    default:
      return `invalid YAML: ${firstLine.replace(/ at line \d+, column \d+.*$/, '')}`;
  }
}

/**
 * The span of the value at `path` in the document, or of its closest existing ancestor.
 * With `keyOf`, the span of that key inside the mapping at `path` (used for unknown keys).
 */
export function spanAt(
  source: YamlSource,
  path: readonly (string | number)[],
  keyOf?: string,
): SourceSpan | undefined {
  let node: Node | null | undefined = source.document.contents;
  let best: Node | undefined = node ?? undefined;
  for (const segment of path) {
    const next = childNode(node, segment);
    if (!next) break;
    node = next.value;
    best = next.value ?? best;
    if (next.value === undefined || next.value === null) {
      // A key with no value: point at the key.
      return rangeSpan(source, next.key);
    }
  }
  if (keyOf !== undefined && node && isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === keyOf);
    if (pair) return rangeSpan(source, pair.key as Node);
  }
  return best ? rangeSpan(source, best) : undefined;
}

/** True when the document itself writes a value at `path` (not inherited, not a default). */
export function definesPath(source: YamlSource, path: readonly (string | number)[]): boolean {
  let node: Node | null | undefined = source.document.contents;
  for (const segment of path) {
    const next = childNode(node, segment);
    if (!next) return false;
    node = next.value;
  }
  return true;
}

function childNode(
  node: Node | null | undefined,
  segment: string | number,
): { key: Node | undefined; value: Node | null | undefined } | undefined {
  if (node && isMap(node)) {
    const pair = node.items.find(
      (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
    );
    if (!pair) return undefined;
    return { key: pair.key as Node, value: pair.value as Node | null };
  }
  if (node && isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment] as Node | undefined;
    return item ? { key: item, value: item } : undefined;
  }
  return undefined;
}

function rangeSpan(source: YamlSource, node: Node | undefined): SourceSpan | undefined {
  if (!node?.range) return undefined;
  return { file: source.file, text: source.text, start: node.range[0], end: node.range[1] };
}
