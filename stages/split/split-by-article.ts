import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { QaPair } from '../clean-qa/clean-qa.ts';
import { CLEAN_QA_OUTPUT } from '../clean-qa/contract.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { seededRandom, seededShuffle } from '../shared/seeded-random.ts';
import { SPLIT_OUTPUT } from './contract.ts';

export interface SplitStats {
  seed: number;
  test_fraction: number;
  /** Share of images that landed in test; close to test_fraction, exact only by luck. */
  test_fraction_of_images: number;
  articles: { train: number; test: number };
  images: { train: number; test: number };
  qa: { train: number; test: number };
}

export interface SplitFailure {
  reason:
    | 'missing-file'
    | 'malformed-qa'
    | 'missing-article-id'
    | 'inconsistent-article'
    | 'too-few-articles';
  message: string;
}

/**
 * Splits QA pairs into train and test by source article, so that no article (hence no image)
 * is on both sides. Articles are shuffled with the seed (from their sorted ids, so input order
 * does not matter) and taken into test until the test images reach `testFraction` of all
 * images; an article that would overshoot the target by more than it would leave short is
 * skipped, so the fraction lands near the target even with large articles. Rows keep their
 * input order within each side. A fraction of 1 (a sweep that only scores) takes every article.
 */
export function splitByArticle(
  rows: readonly QaPair[],
  testFraction: number,
  seed: number,
): Result<{ train: QaPair[]; test: QaPair[]; stats: SplitStats }, SplitFailure> {
  const imagesByArticle = new Map<string, Set<string>>();
  const articleOfImage = new Map<string, string>();
  for (const [index, row] of rows.entries()) {
    const article = row.article_id;
    if (typeof article !== 'string' || article === '') {
      return fail({
        reason: 'missing-article-id',
        message: `QA row ${index + 1} (key ${row.key}) has no article_id; the split needs it to keep articles on one side`,
      });
    }
    const known = articleOfImage.get(row.key);
    if (known !== undefined && known !== article) {
      return fail({
        reason: 'inconsistent-article',
        message: `image ${row.key} is given two articles: ${known} and ${article}`,
      });
    }
    articleOfImage.set(row.key, article);
    const images = imagesByArticle.get(article) ?? new Set<string>();
    images.add(row.key);
    imagesByArticle.set(article, images);
  }
  if (imagesByArticle.size < 2 && testFraction < 1) {
    return fail({
      reason: 'too-few-articles',
      message: `${imagesByArticle.size} article(s): a split by article needs at least two`,
    });
  }
  const totalImages = articleOfImage.size;
  const target = Math.max(1, Math.round(testFraction * totalImages));
  const order = seededShuffle(
    [...imagesByArticle.keys()].sort(),
    seededRandom(seed, 'split-by-article'),
  );
  const testArticles = new Set<string>();
  let testImages = 0;
  for (const article of order) {
    if (testImages >= target) break;
    const size = (imagesByArticle.get(article) as Set<string>).size;
    const overshoot = testImages + size - target;
    if (testArticles.size === 0 || overshoot <= target - testImages) {
      testArticles.add(article);
      testImages += size;
    }
  }
  if (testArticles.size === imagesByArticle.size && testFraction < 1) {
    return fail({
      reason: 'too-few-articles',
      message: `every article went to test (test_fraction ${testFraction} of ${totalImages} images in ${imagesByArticle.size} articles)`,
    });
  }
  const train: QaPair[] = [];
  const test: QaPair[] = [];
  for (const row of rows) (testArticles.has(row.article_id as string) ? test : train).push(row);
  const uniqueImages = (side: QaPair[]) => new Set(side.map((r) => r.key)).size;
  return ok({
    train,
    test,
    stats: {
      seed,
      test_fraction: testFraction,
      test_fraction_of_images: Math.round((testImages / totalImages) * 10000) / 10000,
      articles: { train: imagesByArticle.size - testArticles.size, test: testArticles.size },
      images: { train: uniqueImages(train), test: uniqueImages(test) },
      qa: { train: train.length, test: test.length },
    },
  });
}

/** The stage's work on folders: clean-qa's `qa.jsonl` in; `train.jsonl`, `test.jsonl`, `stats.json` out. */
export async function splitFolder(
  qaDir: string,
  outDir: string,
  testFraction: number,
  seed: number,
): Promise<Result<SplitStats, SplitFailure>> {
  const rows = await readQaRows(join(qaDir, CLEAN_QA_OUTPUT.qa));
  if (!rows.ok) return rows;
  const split = splitByArticle(rows.value, testFraction, seed);
  if (!split.ok) return split;
  await writeJsonl(join(outDir, SPLIT_OUTPUT.train), split.value.train);
  await writeJsonl(join(outDir, SPLIT_OUTPUT.test), split.value.test);
  await writeFile(
    join(outDir, SPLIT_OUTPUT.stats),
    `${JSON.stringify(split.value.stats, null, 2)}\n`,
  );
  return ok(split.value.stats);
}

/** QA rows of a file that clean-qa already checked; a malformed one here is a broken input. */
export async function readQaRows(file: string): Promise<Result<QaPair[], SplitFailure>> {
  const lines = await readJsonlLines(file);
  if (!lines.ok) return fail({ reason: 'missing-file', message: lines.error.message });
  const rows: QaPair[] = [];
  for (const { line, value } of lines.value) {
    const row = value as Partial<QaPair> | undefined;
    if (!row || typeof row.key !== 'string') {
      return fail({
        reason: 'malformed-qa',
        message: `${file}:${line} is not a QA row with a key`,
      });
    }
    rows.push(row as QaPair);
  }
  return ok(rows);
}
