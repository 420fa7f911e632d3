import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledValidator, type ValidatorSetup } from '../../runner/compiled-validator.ts';

const setup: ValidatorSetup = {
  options: { allErrors: true, useDefaults: true, strict: true, verbose: true },
  keywords: [{ keyword: 'x-expects', schemaType: 'string' }],
};
const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    items: { type: 'integer', minimum: 1, default: 4 },
    mode: { anyOf: [{ const: 'all' }, { type: 'integer' }], 'x-expects': 'an integer or "all"' },
  },
};

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('compiled validator', () => {
  it('compiles once, then loads the kept code, which judges and fills defaults alike', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dermatune-validator-'));
    const fresh = await compiledValidator(schema, setup, dir);
    expect(await readdir(dir)).toHaveLength(1);
    const kept = await compiledValidator(schema, setup, dir);
    for (const validate of [fresh, kept]) {
      const filled: Record<string, unknown> = {};
      expect(validate(filled)).toBe(true);
      expect(filled).toEqual({ items: 4 });
      expect(validate({ items: 0, mode: 'some', extra: 1 })).toBe(false);
      expect(validate.errors?.map((e) => [e.instancePath, e.keyword])).toEqual([
        ['', 'additionalProperties'],
        ['/items', 'minimum'],
        ['/mode', 'const'],
        ['/mode', 'type'],
        ['/mode', 'anyOf'],
      ]);
      // verbose errors carry the schema they broke, which the spec messages read.
      expect(validate.errors?.at(-1)?.parentSchema?.['x-expects']).toBe('an integer or "all"');
    }
  });

  it('compiles anew over a damaged cache file, and keeps one per schema', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dermatune-validator-'));
    await compiledValidator(schema, setup, dir);
    const [file] = await readdir(dir);
    await writeFile(join(dir, file as string), 'export default 1; syntax error here');
    const validate = await compiledValidator(schema, setup, dir);
    expect(validate({ items: 2 })).toBe(true);
    await compiledValidator({ ...schema, required: ['items'] }, setup, dir);
    expect(await readdir(dir)).toHaveLength(2);
  });
});
