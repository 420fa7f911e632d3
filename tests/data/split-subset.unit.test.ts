import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import type { QaPair } from '../../stages/clean-qa/clean-qa.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import { writeJsonl } from '../../stages/shared/jsonl-file.ts';
import { seededRandom, seededShuffle } from '../../stages/shared/seeded-random.ts';
import { splitByArticle, splitFolder } from '../../stages/split/split-by-article.ts';
import { nestedSubset, subsetFolder } from '../../stages/subset/nested-subset.ts';
import { curateSamples } from './curate-biomedica.ts';

let root: string;
/** Three QA pairs per curated fixture image, as generate-qa would write them. */
let qa: QaPair[];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-split-'));
  await curateSamples(
    readBiomedicaSource(
      { type: 'local', paths: ['tests/fixtures/biomedica'] },
      { cacheDir: join(root, 'cache'), baseDir: projectRoot() },
    ),
    join(root, 'curate'),
    { filter: DEFAULT_LABEL_FILTER },
  );
  const records = (await readFile(join(root, 'curate', 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as CuratedRecord);
  qa = records.flatMap((r) =>
    [1, 2, 3].map((n) => ({
      key: r.key,
      article_id: r.article_id,
      image: r.image,
      question: `Question ${n} about ${r.key}?`,
      answer: `Answer ${n}: ${r.caption}`,
    })),
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function articlesOf(rows: QaPair[]): Set<string> {
  return new Set(rows.map((r) => r.article_id as string));
}

describe('splitting by article', () => {
  it('puts no article on both sides and about the requested share of images in test', () => {
    for (const seed of [0, 1, 2, 42, 1234]) {
      const split = splitByArticle(qa, 0.1, seed);
      if (!split.ok) throw new Error(split.error.message);
      const { train, test, stats } = split.value;
      const shared = [...articlesOf(train)].filter((a) => articlesOf(test).has(a));
      expect(shared).toEqual([]);
      expect(train.length + test.length).toBe(qa.length);
      expect(stats.images.train + stats.images.test).toBe(49);
      // 10% of 49 images is 4.9; articles hold 1-3 images, so test holds 4 to 6.
      expect(stats.images.test).toBeGreaterThanOrEqual(4);
      expect(stats.images.test).toBeLessThanOrEqual(6);
      // Every QA of an image stays with the image.
      expect(test.length).toBe(stats.images.test * 3);
    }
  });

  it('is deterministic under a seed, whatever the input order, and differs across seeds', () => {
    const a = splitByArticle(qa, 0.1, 7);
    const b = splitByArticle(seededShuffle(qa, seededRandom(99, 'test-order')), 0.1, 7);
    const keys = (r: typeof a) => (r.ok ? [...new Set(r.value.test.map((q) => q.key))].sort() : []);
    expect(keys(a)).toEqual(keys(b));
    const others = [8, 9, 10, 11].map((seed) => keys(splitByArticle(qa, 0.1, seed)));
    expect(others.some((k) => JSON.stringify(k) !== JSON.stringify(keys(a)))).toBe(true);
  });

  it('lands near 10% at the paper scale (2541 images, articles of 1 to 6 images)', () => {
    const random = seededRandom(5, 'paper-scale');
    const rows: QaPair[] = [];
    let images = 0;
    for (let article = 0; images < 2541; article++) {
      const size = Math.min(1 + random.below(6), 2541 - images);
      for (let i = 0; i < size; i++, images++) {
        rows.push({ key: `img${images}`, article_id: `A${article}`, question: 'q?', answer: 'a' });
      }
    }
    const split = splitByArticle(rows, 0.1, 42);
    expect(split.ok && split.value.stats.images.test).toBeGreaterThanOrEqual(250);
    expect(split.ok && split.value.stats.images.test).toBeLessThanOrEqual(258);
  });

  it('refuses rows without an article id, and a single article', () => {
    const missing = splitByArticle([{ key: 'k', question: 'q', answer: 'a' }], 0.1, 1);
    expect(missing.ok ? undefined : missing.error.reason).toBe('missing-article-id');
    const single = splitByArticle(
      qa.filter((r) => r.article_id === 'PMC0000101'),
      0.1,
      1,
    );
    expect(single.ok ? undefined : single.error.reason).toBe('too-few-articles');
  });
});

describe('nested train subsets', () => {
  it('nests the smaller subsets inside the larger, by image, with all their QA', () => {
    const split = splitByArticle(qa, 0.1, 42);
    if (!split.ok) throw new Error(split.error.message);
    const train = split.value.train;
    const images = (size: number | 'all') => {
      const subset = nestedSubset(train, size, 42);
      if (!subset.ok) throw new Error(subset.error.message);
      expect(subset.value.rows.length).toBe(subset.value.stats.images * 3);
      return new Set(subset.value.rows.map((r) => r.key));
    };
    const s10 = images(10);
    const s20 = images(20);
    const all = images('all');
    expect(s10.size).toBe(10);
    expect(s20.size).toBe(20);
    expect(all.size).toBe(new Set(train.map((r) => r.key)).size);
    expect([...s10].every((k) => s20.has(k))).toBe(true);
    expect([...s20].every((k) => all.has(k))).toBe(true);
    // Deterministic, and the seed matters.
    expect([...images(10)]).toEqual([...s10]);
    const other = nestedSubset(train, 10, 43);
    expect(other.ok && [...new Set(other.value.rows.map((r) => r.key))].sort()).not.toEqual(
      [...s10].sort(),
    );
  });

  it('refuses a train size larger than the images available', () => {
    const result = nestedSubset(qa, 50, 1);
    expect(result.ok ? undefined : result.error).toMatchObject({
      reason: 'train-size-exceeds-available',
      requested: 50,
      available: 49,
    });
  });

  it('runs on folders: qa.jsonl -> train/test.jsonl -> subset train.jsonl', async () => {
    const cleanDir = join(root, 'clean');
    const splitDir = join(root, 'split');
    const subsetDir = join(root, 'subset');
    for (const dir of [cleanDir, splitDir, subsetDir]) await mkdir(dir, { recursive: true });
    await writeJsonl(join(cleanDir, 'qa.jsonl'), qa);
    const split = await splitFolder(cleanDir, splitDir, 0.1, 42);
    expect(split.ok).toBe(true);
    const subset = await subsetFolder(splitDir, subsetDir, 12, 42);
    expect(subset.ok && subset.value).toMatchObject({ images: 12, qa: 36 });
    const rows = (await readFile(join(subsetDir, 'train.jsonl'), 'utf8')).trim().split('\n');
    expect(rows).toHaveLength(36);
    const stats = JSON.parse(await readFile(join(splitDir, 'stats.json'), 'utf8'));
    expect(stats.qa.train + stats.qa.test).toBe(147);
  });
});
