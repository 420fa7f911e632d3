import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import { JsonlWriter } from '../shared/jsonl-file.ts';
import type { DataSource, DataSourceFailure } from '../sources/data-source.ts';
import type { SourceDropReason, SourceItem, SourceRecord } from '../sources/source-record.ts';
import { CURATE_OUTPUT } from './contract.ts';
import type { CuratedRecord } from './curated-record.ts';
import { imageProblem } from './image-check.ts';

/** Why a record was not kept; the source's reasons (see SourceDropReason) are curate's. */
export type CurateDropReason = SourceDropReason;

export interface CurateStats {
  /** Records read from the source (BIOMEDICA: samples read from the shards). */
  read: number;
  kept: number;
  dropped: Partial<Record<CurateDropReason, number>>;
  /** Shards or files the kept and dropped records came from. */
  shards: number;
  /** Groups among the kept records (BIOMEDICA: articles). */
  articles: number;
  /** Kept figures whose `image_context` has no paragraph for them. */
  kept_without_mentions: number;
  /** Kept captions that credit a photographer ("courtesy of"): noise an answer can leak. */
  kept_with_credit_caption: number;
  /** True when `limit` stopped the scan before the end of the source. */
  limited: boolean;
}

/** A row of `dropped.jsonl`: the record's id, its shard or `file:row`, and why. */
export interface DroppedRecord {
  key: string;
  shard: string;
  reason: CurateDropReason;
  detail?: string;
}

export interface CurateOptions {
  /** The source's name for a record without a group. */
  missingGroup: DataSource['missingGroup'];
  /** Stop after this many kept figures. */
  limit?: number;
  /** Called with each dropped record, as `dropped.jsonl` lists it. */
  onDrop?: (row: DroppedRecord) => void;
  /** Called every `progressEvery` samples read. */
  onProgress?: (stats: CurateStats) => void;
  progressEvery?: number;
}

const CREDIT = /\bcourtesy\b|\bphoto(graph)? by\b/i;

/**
 * Keeps the records of any source that carry what later stages need (an image that decodes, a
 * caption, a group), writing `records.jsonl`, `images/<key>.<ext>`, `dropped.jsonl` and
 * `stats.json` into `outDir`. A source failure (a shard that cannot be fetched, a manifest that
 * does not parse) fails the whole curation: a partial dataset must not be stored as if it were
 * the source.
 */
export async function curateRecords(
  items: AsyncIterable<Result<SourceItem, DataSourceFailure>>,
  outDir: string,
  options: CurateOptions,
): Promise<Result<CurateStats, DataSourceFailure>> {
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
    for await (const item of items) {
      if (!item.ok) return fail(item.error);
      stats.read++;
      const origin = item.value.kind === 'drop' ? item.value.origin : item.value.record.origin;
      shards.add(shardOf(origin));
      const verdict =
        item.value.kind === 'drop'
          ? item.value
          : judgeRecord(item.value.record, options.missingGroup, seenFiles);
      if (verdict.kind === 'drop') {
        stats.dropped[verdict.reason] = (stats.dropped[verdict.reason] ?? 0) + 1;
        const row = {
          key: item.value.kind === 'drop' ? item.value.id : item.value.record.id,
          shard: origin,
          reason: verdict.reason,
          ...(verdict.detail ? { detail: verdict.detail } : {}),
        };
        await dropped.write(row);
        options.onDrop?.(row);
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

type RecordVerdict =
  | { kind: 'keep'; record: CuratedRecord; bytes: Buffer }
  | { kind: 'drop'; reason: CurateDropReason; detail?: string };

function judgeRecord(
  source: SourceRecord,
  missingGroup: CurateOptions['missingGroup'],
  seenFiles: ReadonlySet<string>,
): RecordVerdict {
  const drop = (reason: CurateDropReason, detail?: string): RecordVerdict => ({
    kind: 'drop',
    reason,
    ...(detail ? { detail } : {}),
  });
  if (!source.image || source.image.bytes.length === 0) return drop('missing-image');
  // null: the source has no captions at all (a VQA set); kept with an empty one.
  const caption = source.caption === null ? '' : (source.caption?.trim() ?? '');
  if (source.caption !== null && caption === '') return drop('missing-caption');
  const group = source.group?.trim();
  if (!group) return drop(missingGroup);
  const extension = source.image.extension === 'jpeg' ? 'jpg' : source.image.extension;
  const image = `${CURATE_OUTPUT.images}/${safeFileName(source.id)}.${extension}`;
  if (seenFiles.has(image)) return drop('duplicate-key');
  // Last, as it decodes: only records that would otherwise be kept pay for it.
  const problem = imageProblem(extension, source.image.bytes);
  if (problem) return drop('not-an-image', problem);
  const { mentions, image_size, license, title, citation, journal } = source.fields;
  const { figure_id, primary_labels, secondary_labels, label, question, answer } = source.fields;
  return {
    kind: 'keep',
    bytes: source.image.bytes,
    // Field order is the file's: a BIOMEDICA record is written byte for byte as before the seam.
    record: {
      key: source.id,
      image,
      caption,
      mentions,
      image_size,
      license,
      title,
      citation,
      journal,
      article_id: group,
      figure_id,
      primary_labels,
      secondary_labels,
      shard: shardOf(source.origin),
      ...(label !== undefined ? { label } : {}),
      ...(question !== undefined ? { question } : {}),
      ...(answer !== undefined ? { answer } : {}),
    },
  };
}

/** A table source's origin is `file:row`; the file is what `shards` counts. */
function shardOf(origin: string): string {
  return origin.replace(/:\d+$/, '');
}

function snapshot(stats: CurateStats, shards: Set<string>, articles: Set<string>): CurateStats {
  return { ...stats, dropped: { ...stats.dropped }, shards: shards.size, articles: articles.size };
}

/** Keys become file names; WebDataset keys may hold folder separators or odd characters. */
function safeFileName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_');
}
