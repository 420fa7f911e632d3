import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { QaPair } from '../clean-qa/clean-qa.ts';
import { writeJsonl } from '../shared/jsonl-file.ts';
import { seededRandom, seededShuffle } from '../shared/seeded-random.ts';
import { SPLIT_OUTPUT } from '../split/contract.ts';
import { readQaRows, type SplitFailure } from '../split/split-by-article.ts';
import { SUBSET_OUTPUT } from './contract.ts';

export interface SubsetStats {
  seed: number;
  train_size: number | 'all';
  images: number;
  qa: number;
  available_images: number;
}

export type SubsetFailure =
  | {
      reason: 'train-size-exceeds-available';
      message: string;
      requested: number;
      available: number;
    }
  | SplitFailure;

/**
 * The first `trainSize` images of one seeded permutation of the training images (sorted by key
 * first, so input order does not matter), with all their QA pairs. Because every size takes a
 * prefix of the same permutation, subsets of one seed nest: the 500 are inside the 1000, inside
 * all. Rows keep their input order.
 */
export function nestedSubset(
  rows: readonly QaPair[],
  trainSize: number | 'all',
  seed: number,
): Result<{ rows: QaPair[]; stats: SubsetStats }, SubsetFailure> {
  const images = [...new Set(rows.map((r) => r.key))].sort();
  if (trainSize !== 'all' && trainSize > images.length) {
    return fail({
      reason: 'train-size-exceeds-available',
      message: `data.train_size ${trainSize} is larger than the ${images.length} training images available`,
      requested: trainSize,
      available: images.length,
    });
  }
  const chosen = new Set(
    trainSize === 'all'
      ? images
      : seededShuffle(images, seededRandom(seed, 'train-subset')).slice(0, trainSize),
  );
  const subset = rows.filter((r) => chosen.has(r.key));
  return ok({
    rows: subset,
    stats: {
      seed,
      train_size: trainSize,
      images: chosen.size,
      qa: subset.length,
      available_images: images.length,
    },
  });
}

/** The stage's work on folders: split's `train.jsonl` in; `train.jsonl`, `stats.json` out. */
export async function subsetFolder(
  splitDir: string,
  outDir: string,
  trainSize: number | 'all',
  seed: number,
): Promise<Result<SubsetStats, SubsetFailure>> {
  const rows = await readQaRows(join(splitDir, SPLIT_OUTPUT.train));
  if (!rows.ok) return rows;
  const subset = nestedSubset(rows.value, trainSize, seed);
  if (!subset.ok) return subset;
  await writeJsonl(join(outDir, SUBSET_OUTPUT.train), subset.value.rows);
  await writeFile(
    join(outDir, SUBSET_OUTPUT.stats),
    `${JSON.stringify(subset.value.stats, null, 2)}\n`,
  );
  return ok(subset.value.stats);
}
