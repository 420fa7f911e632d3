import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { canonicalJson } from './canonical-json.ts';
import { projectRoot } from './project-root.ts';
import type { JsonSchema } from './spec-schema.ts';

/**
 * ajv's validator for a schema, compiled once per schema rather than once per process: the
 * composed spec schema takes ajv over 100 ms to compile, more than the rest of `validate`. The
 * compiled code (ajv's standalone output) is kept in `.dermatune/cache/spec-validators/` under
 * the digest of the schema, the ajv version and the options, and imported from there; V8's
 * compile cache then keeps it compiled too. A cache that cannot be written only costs time.
 */
export interface ValidatorSetup {
  options: { allErrors: boolean; useDefaults: boolean; strict: boolean; verbose: boolean };
  /** Annotation keywords the schema uses (ajv's strict mode refuses unknown ones). */
  keywords: readonly { keyword: string; schemaType: 'string' | 'boolean' }[];
}

export async function compiledValidator(
  schema: JsonSchema,
  setup: ValidatorSetup,
  cacheDir: string = join(projectRoot(), '.dermatune', 'cache', 'spec-validators'),
): Promise<ValidateFunction> {
  const file = join(cacheDir, `${validatorDigest(schema, setup)}.mjs`);
  const cached = await importValidator(file);
  if (cached) return cached;
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const ajv = new Ajv2020({ ...setup.options, code: { source: true, esm: true } });
  for (const keyword of setup.keywords) ajv.addKeyword({ ...keyword });
  const validate = ajv.compile(schema);
  await storeValidator(file, ajv, validate);
  return validate;
}

async function importValidator(file: string): Promise<ValidateFunction | undefined> {
  try {
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return typeof module.default === 'function' ? (module.default as ValidateFunction) : undefined;
  } catch {
    // Absent (the usual first run), or unreadable: compile anew and write it again.
    return undefined;
  }
}

async function storeValidator(file: string, ajv: Ajv2020, validate: ValidateFunction) {
  // A CommonJS module whose exports are the function, with itself as `.default` for TypeScript.
  const standaloneCode = (await import('ajv/dist/standalone/index.js')).default.default;
  // The standalone code takes ajv's small runtime helpers with require(), even as a module.
  const ajvPackage = createRequire(import.meta.url).resolve('ajv/package.json');
  const code = [
    "import { createRequire } from 'node:module';",
    `const require = createRequire(${JSON.stringify(pathToFileURL(ajvPackage).href)});`,
    standaloneCode(ajv, validate),
  ].join('\n');
  const staging = `${file}.${randomUUID()}.tmp`;
  try {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(staging, code);
    // Renamed into place whole, so a concurrent reader never imports half a module.
    await rename(staging, file);
  } catch {
    await rm(staging, { force: true });
  }
}

function validatorDigest(schema: JsonSchema, setup: ValidatorSetup): string {
  const ajvVersion = (createRequire(import.meta.url)('ajv/package.json') as { version: string })
    .version;
  return createHash('sha256')
    .update(canonicalJson({ schema, setup, ajvVersion, format: 1 }))
    .digest('hex');
}
