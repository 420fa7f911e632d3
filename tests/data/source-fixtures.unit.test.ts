import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { writeTextFixtures } from '../../scripts/make-source-fixtures.ts';

const FIXTURES = join(projectRoot(), 'tests', 'fixtures');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('the table sources fixtures', () => {
  it('own-images and score-only are what scripts/make-source-fixtures.ts writes, byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-source-fixtures-'));
    try {
      await writeTextFixtures(dir);
      for (const name of ['own-images', 'score-only']) {
        const committed = await filesUnder(join(FIXTURES, name));
        expect(await filesUnder(join(dir, name))).toEqual(committed);
        for (const file of committed) {
          expect(await readFile(join(dir, name, file)), file).toEqual(
            await readFile(join(FIXTURES, name, file)),
          );
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
