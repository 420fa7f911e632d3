import { closest } from 'fastest-levenshtein';
import type { Diagnostic } from './diagnostic.ts';
import { fail, ok, type Result } from './result.ts';
import { getPath, isPlainObject, type LayeredSpec, type SpecLayer } from './spec-layers.ts';
import { type JsonSchema, schemaAt } from './spec-schema.ts';
import { spanAt, type YamlSource } from './yaml-source.ts';

/** One point of a sweep: a name, the axis values that made it, and its own layer stack. */
export interface SweepVariant {
  name: string;
  description?: string;
  /** Axis values, a replicate's values included. */
  axes: Record<string, unknown>;
  /** A replicate of a variant: the variant's name, which the table groups replicates under. */
  replicateOf?: string;
  /** The replicate's own values (`{"train.seed": 2}`); also in `axes`. */
  replicate?: Record<string, unknown>;
  spec: LayeredSpec;
}

const RESERVED = new Set(['include', 'exclude', 'name', 'replicates']);

/** Between a variant's name and its replicate's values: `qa-all@train.seed=2`. */
export const REPLICATE_SEPARATOR = '@';

/**
 * More variants than this is almost always a typo (an axis pasted 1,000 times) and would
 * start that many trainings; `--max-variants` raises it for a sweep that means it.
 */
export const DEFAULT_MAX_VARIANTS = 10_000;

/**
 * Expands `sweep` into variants: the cartesian product of its axes (dotted key paths to lists
 * of values), minus `exclude` combinations, plus explicit `include` variants. Names come from
 * the axis values unless `sweep.name` gives a template such as `{data.supervision}-{data.train_size}`.
 */
export function expandSweep(
  spec: LayeredSpec,
  merged: Record<string, unknown>,
  schema: JsonSchema,
  maxVariants: number = DEFAULT_MAX_VARIANTS,
): Result<{ variants: SweepVariant[]; problems: Diagnostic[] }, Diagnostic[]> {
  const sweep = merged.sweep;
  const source = topSource(spec);
  const specName = typeof merged.name === 'string' ? merged.name : 'default';
  if (!isPlainObject(sweep)) {
    return ok({ variants: [{ name: specName, axes: {}, spec }], problems: [] });
  }
  const problems: Diagnostic[] = [];
  const axes = Object.entries(sweep).filter(([key]) => !RESERVED.has(key));
  for (const [key] of axes) {
    if (!schemaAt(schema, key.split('.'))) {
      const known = settingPaths(schema);
      problems.push({
        message: `sweep axis "${key}" is not a setting of the spec; did you mean "${closest(key, known)}"?`,
        span: source && spanAt(source, ['sweep'], key),
      });
    }
  }
  const replicates = replicateAxes(sweep.replicates, schema, source, problems);
  if (problems.length > 0) return fail(problems);

  // Counted before anything is expanded: three axes of 1,000 values must not reach memory.
  const lengths = axes.map(([, values]) => (Array.isArray(values) ? values.length : 1));
  const included = Array.isArray(sweep.include) ? sweep.include.length : 0;
  const count = lengths.reduce((a, b) => a * b, 1) + included;
  if (count > maxVariants) {
    const shape =
      lengths.length > 0
        ? ` (${lengths.join(' x ')} axis values${included > 0 ? ` + ${included} included` : ''})`
        : '';
    return fail([
      {
        message: `the sweep expands to ${count > Number.MAX_SAFE_INTEGER ? 'more than 9e15' : count} variants${shape}, more than the limit of ${maxVariants}; if you mean it, pass --max-variants ${count > Number.MAX_SAFE_INTEGER ? 'N' : count}`,
        span: source && spanAt(source, ['sweep']),
      },
    ]);
  }

  const template = typeof sweep.name === 'string' ? sweep.name : undefined;
  const excludes = Array.isArray(sweep.exclude) ? sweep.exclude.filter(isPlainObject) : [];
  const variants: SweepVariant[] = [];
  for (const combination of cartesian(axes as [string, unknown[]][])) {
    const values = Object.fromEntries(combination.map(([key, value]) => [key, value]));
    if (excludes.some((ex) => Object.entries(ex).every(([k, v]) => sameValue(values[k], v)))) {
      continue;
    }
    const name = template
      ? fillTemplate(template, values, merged)
      : combination.map(([, v]) => String(v)).join('-') || specName;
    variants.push({
      name,
      axes: values,
      spec: withLayers(
        spec,
        combination.map(([key, value, index]) => ({
          type: 'variant',
          variant: name,
          path: key.split('.'),
          value,
          span: source && spanAt(source, ['sweep', key, index]),
        })),
      ),
    });
  }
  const includes = Array.isArray(sweep.include) ? sweep.include : [];
  for (const [index, entry] of includes.entries()) {
    if (!isPlainObject(entry) || typeof entry.name !== 'string') {
      problems.push({
        message: 'each sweep.include entry needs a "name" and may have "description" and "set"',
        span: source && spanAt(source, ['sweep', 'include', index]),
      });
      continue;
    }
    const set = isPlainObject(entry.set) ? entry.set : {};
    const name = entry.name;
    variants.push({
      name,
      description: typeof entry.description === 'string' ? entry.description : undefined,
      axes: {},
      spec: withLayers(
        spec,
        Object.entries(set).map(([key, value]) => ({
          type: 'variant',
          variant: name,
          path: key.split('.'),
          value,
          span: source && spanAt(source, ['sweep', 'include', index, 'set', key]),
        })),
      ),
    });
  }
  const names = new Map<string, number>();
  for (const variant of variants) names.set(variant.name, (names.get(variant.name) ?? 0) + 1);
  const clashes = [...names].filter(([, count]) => count > 1).map(([name]) => `"${name}"`);
  if (clashes.length > 0) {
    const axisList = axes.map(([key]) => `{${key}}`).join('-');
    const listed = `${clashes.slice(0, 3).join(', ')}${clashes.length > 3 ? ', ...' : ''}`;
    // Suggest the every-axis template only when it would change something.
    const usesEveryAxis = axes.every(([key]) => (template ?? '').includes(`{${key}}`));
    const advice = usesEveryAxis
      ? 'every axis is already in the name template, so two variants share all their axis values (a value listed twice, or an include named like a generated variant); rename or remove one'
      : `${template ? `the name template "${template}"` : 'the axis values'} cannot tell the variants apart; use every axis, e.g. sweep.name: "${axisList}"`;
    problems.push({
      message: `variant names clash (${listed}): ${advice}`,
      span: source && (template ? spanAt(source, ['sweep', 'name']) : spanAt(source, ['sweep'])),
    });
  }
  if (variants.length === 0) {
    problems.push({
      message: 'the sweep has no variants left after exclude',
      span: source && spanAt(source, ['sweep']),
    });
  }
  return ok({ variants: withReplicates(variants, replicates, source), problems });
}

/**
 * `sweep.replicates`: settings (dotted paths, e.g. `train.seed`) whose values repeat every
 * variant rather than define new ones. Each variant runs once per combination, named
 * `<variant>@<path>=<value>`; the table groups them back under the variant's name. Stages
 * whose keys do not read the replicated setting are shared by all replicates.
 */
function replicateAxes(
  value: unknown,
  schema: JsonSchema,
  source: YamlSource | undefined,
  problems: Diagnostic[],
): [string, unknown[]][] {
  if (value === undefined) return [];
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    problems.push({
      message:
        'sweep.replicates maps settings to the values each variant repeats with, e.g. {train.seed: [1, 2, 3]}',
      span: source && spanAt(source, ['sweep', 'replicates']),
    });
    return [];
  }
  const axes: [string, unknown[]][] = [];
  for (const [key, values] of Object.entries(value)) {
    if (!schemaAt(schema, key.split('.'))) {
      problems.push({
        message: `sweep.replicates "${key}" is not a setting of the spec; did you mean "${closest(key, settingPaths(schema))}"?`,
        span: source && spanAt(source, ['sweep', 'replicates'], key),
      });
    } else if (!Array.isArray(values) || values.length < 2) {
      problems.push({
        message: `sweep.replicates "${key}" needs a list of at least two values (one is not a replicate)`,
        span: source && spanAt(source, ['sweep', 'replicates', key]),
      });
    } else axes.push([key, values]);
  }
  return axes;
}

function withReplicates(
  variants: readonly SweepVariant[],
  axes: [string, unknown[]][],
  source: YamlSource | undefined,
): SweepVariant[] {
  if (axes.length === 0) return [...variants];
  return variants.flatMap((variant) =>
    [...cartesian(axes)].map((combination) => {
      const replicate = Object.fromEntries(combination.map(([key, value]) => [key, value]));
      const name = `${variant.name}${REPLICATE_SEPARATOR}${combination.map(([key, value]) => `${key}=${String(value)}`).join(',')}`;
      return {
        ...variant,
        name,
        axes: { ...variant.axes, ...replicate },
        replicateOf: variant.name,
        replicate,
        spec: withLayers(
          variant.spec,
          combination.map(([key, value, index]) => ({
            type: 'variant',
            variant: name,
            path: key.split('.'),
            value,
            span: source && spanAt(source, ['sweep', 'replicates', key, index]),
          })),
        ),
      };
    }),
  );
}

/** `--only a,b`: keeps the named variants, refusing names the sweep does not have. */
export function selectVariants(
  variants: readonly SweepVariant[],
  only: readonly string[],
): Result<SweepVariant[], Diagnostic[]> {
  if (only.length === 0) return ok([...variants]);
  const names = [
    ...new Set(variants.flatMap((v) => (v.replicateOf ? [v.replicateOf, v.name] : [v.name]))),
  ];
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    return fail(
      unknown.map((name) => ({
        message: `--only ${name}: no such variant; did you mean "${closest(name, names)}"? (variants: ${names.join(', ')})`,
      })),
    );
  }
  // A replicated variant's own name selects all its replicates.
  return ok(
    variants.filter(
      (v) => only.includes(v.name) || (v.replicateOf !== undefined && only.includes(v.replicateOf)),
    ),
  );
}

function withLayers(spec: LayeredSpec, layers: SpecLayer[]): LayeredSpec {
  return { file: spec.file, layers: [...spec.layers, ...layers] };
}

function* cartesian(axes: [string, unknown[]][]): Generator<[string, unknown, number][]> {
  if (axes.length === 0) {
    yield [];
    return;
  }
  const [[key, values], ...rest] = axes as [[string, unknown[]], ...[string, unknown[]][]];
  const list = Array.isArray(values) ? values : [values];
  for (const [index, value] of list.entries()) {
    for (const tail of cartesian(rest)) yield [[key, value, index], ...tail];
  }
}

function fillTemplate(
  template: string,
  values: Record<string, unknown>,
  merged: Record<string, unknown>,
): string {
  return template.replace(/\{([^}]+)\}/g, (_, key: string) =>
    String(key in values ? values[key] : getPath(merged, key.split('.'))),
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function topSource(spec: LayeredSpec): YamlSource | undefined {
  const layer = [...spec.layers].reverse().find((l) => l.type === 'file');
  return layer?.type === 'file' ? layer.source : undefined;
}

function settingPaths(schema: JsonSchema, prefix: string[] = []): string[] {
  const properties = schema.properties;
  if (!isPlainObject(properties)) return prefix.length > 0 ? [prefix.join('.')] : [];
  return Object.entries(properties).flatMap(([name, sub]) => [
    [...prefix, name].join('.'),
    ...settingPaths(sub as JsonSchema, [...prefix, name]).filter(
      (p) => p !== [...prefix, name].join('.'),
    ),
  ]);
}
