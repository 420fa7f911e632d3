import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import { type SelectedRecord, selectFromFolders } from '../../stages/select/select.ts';
import {
  findCategory,
  resolveCategories,
  SKIN_CATEGORIES,
} from '../../stages/shared/categories.ts';
import { curateSamples } from './curate-biomedica.ts';

let root: string;
let curated: CuratedRecord[];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-select-'));
  const curateDir = join(root, 'curate');
  await curateSamples(
    readBiomedicaSource(
      { type: 'local', paths: ['tests/fixtures/biomedica'] },
      { cacheDir: join(root, 'cache'), baseDir: projectRoot() },
    ),
    curateDir,
    { filter: DEFAULT_LABEL_FILTER },
  );
  curated = (await readFile(join(curateDir, 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as CuratedRecord);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Articles of the fixture whose figures are not bacterial, with their category numbers. */
const NON_BACTERIAL: Record<string, number> = {
  PMC0000116: 13,
  PMC0000117: 11,
  PMC0000118: 10,
  PMC0000119: 20,
  PMC0000120: 18,
  PMC0000127: 4,
};

describe('the 29 categories', () => {
  it('are numbered in the paper order and found by number or name', () => {
    expect(SKIN_CATEGORIES).toHaveLength(29);
    expect(SKIN_CATEGORIES.map((c) => c.number)).toEqual(
      Array.from({ length: 29 }, (_, i) => i + 1),
    );
    expect(findCategory(21)?.name).toBe('Bacterial Infections');
    expect(findCategory(' bacterial  INFECTIONS ')?.number).toBe(21);
    expect(findCategory('21')?.name).toBe('Bacterial Infections');
    expect(findCategory('Parasytes')?.number).toBe(4);
    expect(findCategory(30)).toBeUndefined();
    expect(resolveCategories(['Bacterial Infections', 21])).toEqual({
      ok: true,
      value: [{ number: 21, name: 'Bacterial Infections' }],
    });
    expect(resolveCategories(['Bacterial']).ok).toBe(false);
  });
});

describe('selecting categories from annotations', () => {
  it('keeps the bacterial figures, links their images and counts the rest', async () => {
    const annotationsDir = join(root, 'annotate');
    await rm(annotationsDir, { recursive: true, force: true });
    await mkdir(annotationsDir, { recursive: true });
    const annotations = curated
      .filter((r) => r.key !== 'PMC0000124_F3') // one record the annotator never reached
      .map((r) => {
        if (r.key === 'PMC0000124_F2') return { key: r.key, category: 'garbage' };
        const number = NON_BACTERIAL[r.article_id] ?? 21;
        return {
          key: r.key,
          category_number: number,
          category_name: findCategory(number)?.name,
          reasoning: 'from the caption',
        };
      });
    await writeFile(
      join(annotationsDir, 'annotations.jsonl'),
      annotations.map((a) => JSON.stringify(a)).join('\n'),
    );
    const outDir = join(root, 'select');
    const result = await selectFromFolders(join(root, 'curate'), annotationsDir, outDir, [
      'Bacterial Infections',
    ]);
    const nonBacterial = curated.filter((r) => r.article_id in NON_BACTERIAL).length;
    expect(result.ok && result.value).toMatchObject({
      records: 49,
      selected: 49 - nonBacterial - 2,
      dropped: { 'other-category': nonBacterial, 'not-annotated': 1, 'malformed-annotation': 1 },
      categories: ['21 Bacterial Infections'],
    });
    const selected = (await readFile(join(outDir, 'records.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SelectedRecord);
    expect(selected.every((r) => r.category_number === 21)).toBe(true);
    expect(selected.some((r) => r.article_id === 'PMC0000116')).toBe(false);
    for (const r of selected) expect((await stat(join(outDir, r.image))).size).toBeGreaterThan(0);

    const byNumber = await selectFromFolders(
      join(root, 'curate'),
      annotationsDir,
      join(root, 's2'),
      [13, 'eczema'],
    );
    // Psoriasis has two figures; the eczema article one (its second figure has no image).
    expect(byNumber.ok && byNumber.value.selected).toBe(3);
  });

  it('refuses an unknown category instead of selecting nothing', async () => {
    const result = await selectFromFolders(join(root, 'curate'), join(root, 'annotate'), root, [
      'Fungal stuff',
    ]);
    expect(result.ok ? undefined : result.error.reason).toBe('unknown-category');
  });
});
