import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { closest, distance } from 'fastest-levenshtein';
import { compiledValidator, type ValidatorSetup } from './compiled-validator.ts';
import type { Diagnostic } from './diagnostic.ts';
import { fail, ok, type Result } from './result.ts';
import { isPlainObject, type LayeredSpec, locate, mergeLayers } from './spec-layers.ts';
import { type JsonSchema, schemaAt } from './spec-schema.ts';

/**
 * Validates a layered spec against the composed schema and turns ajv's errors into messages a
 * colleague would write, each pointing at the layer that wrote the offending value. Defaults
 * from the schema are filled into the returned spec.
 */
export class SpecValidator {
  readonly #validate: ValidateFunction;

  /** A validator for `schema`, its ajv code compiled once and kept (see compiledValidator). */
  static async create(schema: JsonSchema): Promise<SpecValidator> {
    return new SpecValidator(schema, await compiledValidator(schema, SPEC_VALIDATOR_SETUP));
  }

  private constructor(schema: JsonSchema, validate: ValidateFunction) {
    this.#validate = validate;
    this.#schema = schema;
  }

  readonly #schema: JsonSchema;

  validate(spec: LayeredSpec): Result<Record<string, unknown>, Diagnostic[]> {
    const layers = spec.layers.map((layer) =>
      layer.type === 'file'
        ? {
            ...layer,
            source: {
              ...layer.source,
              value: resolvePaths(layer.source.value, this.#schema, dirname(layer.source.file)),
            },
          }
        : layer.type === 'override'
          ? {
              ...layer,
              value: resolvePaths(
                layer.value,
                schemaAt(this.#schema, layer.path) ?? {},
                process.cwd(),
              ),
            }
          : layer,
    );
    const value = structuredClone(mergeLayers(layers));
    if (this.#validate(value)) return ok(value);
    return fail(toDiagnostics(this.#validate.errors ?? [], spec));
  }
}

const SPEC_VALIDATOR_SETUP: ValidatorSetup = {
  options: { allErrors: true, useDefaults: true, strict: true, verbose: true },
  keywords: [
    // Human phrasing of what an anyOf accepts ("a positive integer or \"all\"").
    { keyword: 'x-expects', schemaType: 'string' },
    // Marks settings that are file paths, resolved against the file that wrote them.
    { keyword: 'x-relative-path', schemaType: 'boolean' },
    // Marks settings that change how a stage runs, never what it writes (see keyParams).
    { keyword: 'x-not-in-key', schemaType: 'boolean' },
    // Marks settings only the runner reads, left out of the worker's job (job-schema.ts).
    { keyword: 'x-not-in-job', schemaType: 'boolean' },
  ],
};

function toDiagnostics(errors: readonly ErrorObject[], spec: LayeredSpec): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const anyOfHandled = new Set<string>();
  for (const error of errors) {
    const path = pointerToPath(error.instancePath);
    const dotted = path.join('.') || 'the spec';
    let message: string;
    let keyOf: string | undefined;
    const anyOfParent = anyOfSchemaPath(error.schemaPath);
    if (anyOfParent !== undefined) {
      // One readable message for the whole anyOf instead of one per branch.
      if (anyOfHandled.has(error.instancePath)) continue;
      anyOfHandled.add(error.instancePath);
      const expects = errors.find(
        (e) => e.instancePath === error.instancePath && e.keyword === 'anyOf',
      )?.parentSchema?.['x-expects'];
      message = `${dotted} must be ${typeof expects === 'string' ? expects : 'one of the allowed forms'} (got ${show(error.data)})`;
    } else {
      switch (error.keyword) {
        case 'additionalProperties': {
          const unknown = String(error.params.additionalProperty);
          keyOf = unknown;
          const allowed = Object.keys(
            (error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {},
          );
          const suggestion = allowed.length > 0 ? closest(unknown, allowed) : undefined;
          const near =
            suggestion !== undefined &&
            distance(unknown, suggestion) <= Math.max(2, Math.floor(unknown.length / 3));
          const where = path.length > 0 ? ` in ${dotted}` : '';
          message = near
            ? `unknown key "${unknown}"${where}; did you mean "${suggestion}"?`
            : `unknown key "${unknown}"${where}; allowed keys: ${allowed.join(', ')}`;
          break;
        }
        case 'required': {
          const missing = String(error.params.missingProperty);
          message = `${path.length > 0 ? dotted : 'the spec'} is missing "${missing}"`;
          break;
        }
        case 'type':
          message = `${dotted} must be ${article(String(error.params.type))} (got ${show(error.data)})`;
          break;
        case 'enum':
          message = `${dotted} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${show(error.data)})`;
          break;
        case 'const':
          message = `${dotted} must be ${JSON.stringify(error.params.allowedValue)} (got ${show(error.data)})`;
          break;
        case 'minimum':
        case 'maximum':
        case 'exclusiveMinimum':
        case 'exclusiveMaximum': {
          const op = {
            minimum: '>=',
            maximum: '<=',
            exclusiveMinimum: '>',
            exclusiveMaximum: '<',
          }[error.keyword];
          message = `${dotted} must be ${op} ${error.params.limit} (got ${show(error.data)})`;
          break;
        }
        case 'minItems':
          message = `${dotted} must have at least ${error.params.limit} item(s)`;
          break;
        case 'minLength':
          message = `${dotted} must not be empty`;
          break;
        case 'pattern':
          message = `${dotted} must match ${error.params.pattern} (got ${show(error.data)})`;
          break;
        case 'uniqueItems':
          message = `${dotted} lists the same value twice (items ${error.params.j} and ${error.params.i})`;
          break;
        default:
          message = `${dotted} ${error.message ?? 'is invalid'}`;
      }
    }
    const where = locate(spec, path, keyOf);
    const identity = `${message}@${where.span?.start ?? ''}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    diagnostics.push({ message, ...where });
  }
  return diagnostics;
}

function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function anyOfSchemaPath(schemaPath: string): string | undefined {
  const index = schemaPath.lastIndexOf('/anyOf');
  return index >= 0 ? schemaPath.slice(0, index) : undefined;
}

function article(type: string): string {
  const readable = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(readable) ? `an ${readable}` : `a ${readable}`;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON has no Infinity: `1e400` would read as "got null".
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return `${value}, a number too large to represent`;
  }
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'a list' : 'a mapping';
  return JSON.stringify(value);
}

/**
 * Resolves the strings that the schema marks `x-relative-path` against `baseDir`, so a path in
 * a spec means the same thing whichever directory dermatune runs from.
 */
function resolvePaths(value: unknown, schema: JsonSchema, baseDir: string): unknown {
  if (schema['x-relative-path'] === true && typeof value === 'string') {
    // A URL (`s3://bucket/prefix` for the Ray storage) names no local path.
    return isAbsolute(value) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
      ? value
      : resolve(baseDir, value);
  }
  if (Array.isArray(value) && isPlainObject(schema.items)) {
    return value.map((item) => resolvePaths(item, schema.items as JsonSchema, baseDir));
  }
  const branches = Array.isArray(schema.anyOf) ? (schema.anyOf as JsonSchema[]) : [];
  if (isPlainObject(value)) {
    let out: Record<string, unknown> = value;
    const properties = isPlainObject(schema.properties) ? schema.properties : {};
    for (const [name, sub] of Object.entries(properties)) {
      if (out[name] !== undefined)
        out = { ...out, [name]: resolvePaths(out[name], sub as JsonSchema, baseDir) };
    }
    for (const branch of branches)
      out = resolvePaths(out, branch, baseDir) as Record<string, unknown>;
    return out;
  }
  return value;
}
