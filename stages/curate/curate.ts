import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { BiomedicaMetadata, BiomedicaSample } from '../biomedica/biomedica-sample.ts';
import type { SourceFailure } from '../biomedica/biomedica-source.ts';
import { JsonlWriter } from '../shared/jsonl-file.ts';
import { CURATE_OUTPUT } from './contract.ts';
import type { CuratedRecord } from './curated-record.ts';
import { figureMentions } from './figure-mentions.ts';
import { imageProblem } from './image-check.ts';
import { judgeLabels, type LabelFilter } from './label-filter.ts';

/** Why a sample was not kept; counted in the stats and listed in `dropped.jsonl`. */
export type CurateDropReason =
  | 'no-metadata'
  | 'missing-labels'
  | 'primary-label-mismatch'
  | 'secondary-label-mismatch'
  | 'missing-image'
  | 'not-an-image'
  | 'missing-caption'
  | 'missing-article-id'
  | 'duplicate-key'
  | 'entry-too-large';

export interface CurateStats {
  /** Samples read from the shards. */
  read: number;
  kept: number;
  dropped: Partial<Record<CurateDropReason, number>>;
  shards: number;
  articles: number;
  /** Kept figures whose `image_context` has no paragraph for them. */
  kept_without_mentions: number;
  /** Kept captions that credit a photographer ("courtesy of"): noise an answer can leak. */
  kept_with_credit_caption: number;
  /** True when `limit` stopped the scan before the end of the source. */
  limited: boolean;
}

export interface CurateOptions {
  filter: LabelFilter;
  /** Stop after this many kept figures. */
  limit?: number;
  /** Called every `progressEvery` samples read. */
  onProgress?: (stats: CurateStats) => void;
  progressEvery?: number;
}

const CREDIT = /\bcourtesy\b|\bphoto(graph)? by\b/i;

/**
 * Keeps the figures that pass the label filter and carry what later stages need, writing
 * `records.jsonl`, `images/<key>.<ext>`, `dropped.jsonl` and `stats.json` into `outDir`.
 * A source failure (a shard that cannot be fetched or read) fails the whole curation: a partial
 * dataset must not be stored as if it were the source.
 */
export async function curateSamples(
  samples: AsyncIterable<Result<BiomedicaSample, SourceFailure>>,
  outDir: string,
  options: CurateOptions,
): Promise<Result<CurateStats, SourceFailure>> {
  await mkdir(join(outDir, CURATE_OUTPUT.images), { recursive: true });
  const records = new JsonlWriter(join(outDir, CURATE_OUTPUT.records));
  const dropped = new JsonlWriter(join(outDir, CURATE_OUTPUT.dropped));
  const stats: CurateStats = {
    read: 0,
    kept: 0,
    dropped: {},
    shards: 0,
    articles: 0,
    kept_without_mentions: 0,
    kept_with_credit_caption: 0,
    limited: false,
  };
  const seenFiles = new Set<string>();
  const shards = new Set<string>();
  const articles = new Set<string>();
  const every = options.progressEvery ?? 1000;
  try {
    for await (const item of samples) {
      if (!item.ok) return fail(item.error);
      const sample = item.value;
      stats.read++;
      shards.add(sample.shard);
      const verdict = judgeSample(sample, options.filter, seenFiles);
      if (!verdict.keep) {
        stats.dropped[verdict.reason] = (stats.dropped[verdict.reason] ?? 0) + 1;
        await dropped.write({
          key: sample.key,
          shard: sample.shard,
          reason: verdict.reason,
          ...(verdict.detail ? { detail: verdict.detail } : {}),
        });
      } else {
        seenFiles.add(verdict.record.image);
        await writeFile(join(outDir, verdict.record.image), verdict.bytes);
        await records.write(verdict.record);
        stats.kept++;
        articles.add(verdict.record.article_id);
        if (verdict.record.mentions.length === 0) stats.kept_without_mentions++;
        if (CREDIT.test(verdict.record.caption)) stats.kept_with_credit_caption++;
      }
      if (stats.read % every === 0) options.onProgress?.(snapshot(stats, shards, articles));
      if (options.limit !== undefined && stats.kept >= options.limit) {
        stats.limited = true;
        break;
      }
    }
  } finally {
    await records.close();
    await dropped.close();
  }
  const final = snapshot(stats, shards, articles);
  await writeFile(join(outDir, CURATE_OUTPUT.stats), `${JSON.stringify(final, null, 2)}\n`);
  return ok(final);
}

type SampleVerdict =
  | { keep: true; record: CuratedRecord; bytes: Buffer }
  | { keep: false; reason: CurateDropReason; detail?: string };

function judgeSample(
  sample: BiomedicaSample,
  filter: LabelFilter,
  seenFiles: ReadonlySet<string>,
): SampleVerdict {
  if (sample.oversized) return { keep: false, reason: 'entry-too-large' };
  const metadata = sample.metadata;
  if (!metadata || 'unparseable' in metadata) return { keep: false, reason: 'no-metadata' };
  const labels = judgeLabels(metadata, filter);
  if (!labels.keep) return { keep: false, reason: labels.reason };
  if (!sample.image || sample.image.bytes.length === 0)
    return { keep: false, reason: 'missing-image' };
  const caption = sample.caption?.trim() ?? '';
  if (caption === '') return { keep: false, reason: 'missing-caption' };
  const articleId = stringField(metadata, 'article_accession_id');
  if (!articleId) return { keep: false, reason: 'missing-article-id' };
  const extension = sample.image.extension === 'jpeg' ? 'jpg' : sample.image.extension;
  const image = `${CURATE_OUTPUT.images}/${safeFileName(sample.key)}.${extension}`;
  if (seenFiles.has(image)) return { keep: false, reason: 'duplicate-key' };
  // Last, as it decodes: only figures that would otherwise be kept pay for it.
  const problem = imageProblem(extension, sample.image.bytes);
  if (problem) return { keep: false, reason: 'not-an-image', detail: problem };
  return {
    keep: true,
    bytes: sample.image.bytes,
    record: {
      key: sample.key,
      image,
      caption,
      mentions: figureMentions(metadata),
      image_size: imageSize(metadata.image_size),
      license: stringField(metadata, 'article_license'),
      title: stringField(metadata, 'article_title'),
      citation: stringField(metadata, 'article_citation'),
      journal: stringField(metadata, 'article_journal'),
      article_id: articleId,
      figure_id: stringField(metadata, 'image_cluster_id'),
      primary_labels: labels.primary,
      secondary_labels: labels.secondary,
      shard: sample.shard,
    },
  };
}

function snapshot(stats: CurateStats, shards: Set<string>, articles: Set<string>): CurateStats {
  return { ...stats, dropped: { ...stats.dropped }, shards: shards.size, articles: articles.size };
}

function stringField(metadata: BiomedicaMetadata, field: string): string | null {
  const value = metadata[field];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function imageSize(value: unknown): [number, number] | null {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => Number.isFinite(v))) {
    return [Number(value[0]), Number(value[1])];
  }
  return null;
}

/** Keys become file names; WebDataset keys may hold folder separators or odd characters. */
function safeFileName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_');
}
