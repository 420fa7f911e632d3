import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { writeFixture } from '../../scripts/make-fixture.ts';
import type {
  BiomedicaMetadata,
  BiomedicaSample,
} from '../../stages/biomedica/biomedica-sample.ts';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';

const FIXTURE = join(projectRoot(), 'tests', 'fixtures', 'biomedica');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('the synthetic BIOMEDICA fixture', () => {
  it('is what the generator writes, byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-fixture-'));
    try {
      await writeFixture(dir);
      const committed = await filesUnder(FIXTURE);
      expect(await filesUnder(dir)).toEqual(committed);
      for (const file of committed) {
        const same = (await readFile(join(dir, file))).equals(await readFile(join(FIXTURE, file)));
        expect(same, `${file} differs; rerun node scripts/make-fixture.ts`).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has the size, spread and content the curation tests rely on, and says it is synthetic', async () => {
    const samples: BiomedicaSample[] = [];
    for await (const item of readBiomedicaSource(
      { type: 'local', paths: [FIXTURE] },
      { cacheDir: FIXTURE, baseDir: projectRoot() },
    )) {
      if (item.ok) samples.push(item.value);
    }
    const metadata = samples.map((s) => s.metadata as BiomedicaMetadata);
    expect(samples.length).toBeGreaterThanOrEqual(60);
    expect(new Set(samples.map((s) => s.shard)).size).toBeGreaterThanOrEqual(2);
    expect(new Set(metadata.map((m) => m.article_accession_id)).size).toBeGreaterThanOrEqual(20);
    expect(metadata.every((m) => m.article_title?.startsWith('[SYNTHETIC] '))).toBe(true);
    const text = samples
      .map((s) => `${s.caption ?? ''} ${JSON.stringify(s.metadata)}`)
      .join(' ')
      .toLowerCase();
    for (const condition of [
      'impetigo',
      'cellulitis',
      'erysipelas',
      'folliculitis',
      'furuncle',
      'carbuncle',
      'abscess',
      'ecthyma',
      'erythrasma',
      'necrotizing fasciitis',
      'staphylococcal scalded skin syndrome',
      'cutaneous tuberculosis',
      'leprosy',
      'erythema migrans',
      'psoriasis',
      'tinea',
      'warts',
      'melanoma',
      'eczema',
      'radiograph',
      'haematoxylin',
      'courtesy of',
    ]) {
      expect(text, condition).toContain(condition);
    }
    let bytes = 0;
    for (const file of await filesUnder(FIXTURE)) bytes += (await stat(join(FIXTURE, file))).size;
    expect(bytes).toBeLessThan(1024 * 1024);
    expect(await readFile(join(FIXTURE, 'README.md'), 'utf8')).toMatch(/SYNTHETIC DATA/);
  });
});
