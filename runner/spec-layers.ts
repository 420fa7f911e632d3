import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic, DiagnosticOrigin, SourceSpan } from './diagnostic.ts';
import { readRegularFile } from './regular-file.ts';
import { fail, ok, type Result } from './result.ts';
import {
  definesPath,
  MAX_SPEC_BYTES,
  parseYamlSource,
  spanAt,
  type YamlSource,
} from './yaml-source.ts';

/**
 * A spec is a stack of layers: the files it extends (bases first), the file itself, then
 * command-line overrides and finally a sweep variant's axis values. Later layers win. Each
 * layer remembers where it came from so an error can name the file, override or variant.
 */
export type SpecLayer =
  | { type: 'file'; source: YamlSource }
  | { type: 'override'; text: string; path: string[]; value: unknown }
  | { type: 'variant'; variant: string; path: string[]; value: unknown; span?: SourceSpan };

export interface LayeredSpec {
  /** The file the user named. */
  file: string;
  layers: SpecLayer[];
}

const EXTENDS_KEY = 'extends';
const SWEEP_KEY = 'sweep';

/** Loads a spec file and every file it extends, depth first, refusing cycles and missing files. */
export async function loadSpecLayers(file: string): Promise<Result<LayeredSpec, Diagnostic[]>> {
  const layers: SpecLayer[] = [];
  const problems: Diagnostic[] = [];
  const shortName = (path: string) => nameFrom(dirname(resolve(file)), path);
  await collect(resolve(file), [], undefined);
  return problems.length > 0 ? fail(problems) : ok({ file: resolve(file), layers });

  async function collect(path: string, chain: string[], from: SourceSpan | undefined) {
    if (chain.includes(path)) {
      problems.push({
        message: `extends cycle: ${[...chain, path].map((p) => shortName(p)).join(' -> ')}`,
        span: from,
      });
      return;
    }
    const read = await readRegularFile(path, MAX_SPEC_BYTES);
    if (!read.ok) {
      const via = chain.length > 0 ? ` (extended by ${chain.map(shortName).join(' -> ')})` : '';
      const why =
        read.error.reason === 'too-large'
          ? `the file is ${read.error.size} bytes or more; specs are limited to ${read.error.limit} bytes`
          : read.error.message;
      problems.push({ message: `${shortName(path)}: ${why}${via}`, span: from });
      return;
    }
    const parsed = parseYamlSource(path, read.value);
    if (!parsed.ok) {
      problems.push(...parsed.error);
      return;
    }
    const source = parsed.value;
    const value = source.value;
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      problems.push({
        message: 'a spec must be a mapping of keys to values',
        span: spanAt(source, []),
      });
      return;
    }
    const bases = (value as Record<string, unknown> | null)?.[EXTENDS_KEY];
    const baseList = bases === undefined ? [] : Array.isArray(bases) ? bases : [bases];
    for (const [index, base] of baseList.entries()) {
      const at = spanAt(source, Array.isArray(bases) ? [EXTENDS_KEY, index] : [EXTENDS_KEY]);
      if (typeof base !== 'string') {
        problems.push({ message: 'extends must be a path or a list of paths', span: at });
        continue;
      }
      const basePath = isAbsolute(base) ? base : resolve(dirname(path), base);
      await collect(basePath, [...chain, path], at);
    }
    layers.push({ type: 'file', source });
  }
}

/**
 * Deep-merges the layers: mappings merge key by key, everything else is replaced, and a
 * layer's `sweep` replaces the sweep of the specs it extends as a whole.
 */
export function mergeLayers(layers: readonly SpecLayer[]): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer.type === 'file') {
      const { [EXTENDS_KEY]: _extends, ...rest } = (layer.source.value ?? {}) as Record<
        string,
        unknown
      >;
      // A spec's sweep replaces the one it extends: merged axes would silently multiply variants.
      const { [SWEEP_KEY]: sweep, ...settings } = rest;
      merged = deepMerge(merged, settings) as Record<string, unknown>;
      if (sweep !== undefined) merged = { ...merged, [SWEEP_KEY]: sweep };
    } else {
      merged = setPath(merged, layer.path, layer.value);
    }
  }
  return merged;
}

/** Which layer last wrote `path` (or an ancestor of it), for pointing errors at their origin. */
export function locate(
  spec: LayeredSpec,
  path: readonly (string | number)[],
  keyOf?: string,
): { span?: SourceSpan; origin?: DiagnosticOrigin } {
  const full = keyOf === undefined ? path : [...path, keyOf];
  for (let i = spec.layers.length - 1; i >= 0; i--) {
    const layer = spec.layers[i];
    if (!layer) continue;
    if (layer.type === 'file') {
      if (definesPath(layer.source, full)) {
        return withOrigin(spec, layer, { span: spanAt(layer.source, path, keyOf) });
      }
    } else if (isPrefix(layer.path, full)) {
      // This layer wrote the value (or a mapping holding it).
      return layer.type === 'override'
        ? { origin: { kind: 'override', text: layer.text } }
        : { span: layer.span, origin: { kind: 'variants', names: [layer.variant] } };
    }
  }
  // Nobody wrote it (a missing required key): point at the nearest ancestor in the user's file.
  const top = [...spec.layers].reverse().find((l) => l.type === 'file');
  return top && top.type === 'file' ? { span: spanAt(top.source, path) } : {};
}

function withOrigin(
  spec: LayeredSpec,
  layer: Extract<SpecLayer, { type: 'file' }>,
  at: { span?: SourceSpan },
): { span?: SourceSpan; origin?: DiagnosticOrigin } {
  return layer.source.file === spec.file
    ? at
    : {
        ...at,
        origin: {
          kind: 'extended',
          file: nameFrom(dirname(spec.file), layer.source.file),
          by: nameFrom(dirname(spec.file), spec.file),
        },
      };
}

function isPrefix(prefix: readonly (string | number)[], path: readonly (string | number)[]) {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}

export function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
    return out;
  }
  return over === undefined ? base : over;
}

export function setPath(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return target;
  if (rest.length === 0) return { ...target, [head]: value };
  const child = target[head];
  return { ...target, [head]: setPath(isPlainObject(child) ? child : {}, rest, value) };
}

export function getPath(target: unknown, path: readonly string[]): unknown {
  let node: unknown = target;
  for (const segment of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[segment];
  }
  return node;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Paths in messages are relative to the spec the user named, as they wrote them. */
function nameFrom(base: string, path: string): string {
  const rel = relative(base, path);
  return rel.startsWith('../../') ? path : rel;
}
