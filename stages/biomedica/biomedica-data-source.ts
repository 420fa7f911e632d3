import type { StageEstimate } from '../../runner/preflight-check.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { ok, type Result } from '../../runner/result.ts';
import type { DataSource, DataSourceFailure, ReadOptions } from '../sources/data-source.ts';
import type { SourceItem } from '../sources/source-record.ts';
import type { BiomedicaMetadata, BiomedicaSample } from './biomedica-sample.ts';
import {
  type BiomedicaSource,
  biomedicaSourceFingerprint,
  readBiomedicaSource,
  type SourceOptions,
} from './biomedica-source.ts';
import { figureMentions } from './figure-mentions.ts';
import { proveHubDataset } from './hub-preflight.ts';
import { judgeLabels, type LabelFilter } from './label-filter.ts';
import {
  describeSourceForPlan,
  resolveSourceShards,
  shardAvailabilityChecks,
} from './source-checks.ts';

/**
 * BIOMEDICA's WebDataset shards, local or on the hub, behind the data-source seam. What is
 * BIOMEDICA's own stays here: its metadata's field names, the concept-label filter, and its name
 * for a figure without an article (`missing-article-id`).
 */
export const dataSource: DataSource<BiomedicaSource> = {
  read: ({ source, filter }, options) =>
    biomedicaItems(readBiomedicaSource(source, sourceOptions(options)), filter),
  fingerprint: ({ source }, options) => biomedicaSourceFingerprint(source, sourceOptions(options)),
  // Stable whatever the error text, so an offline `plan` shows one key; preflight says why.
  unpinned: (source) => ({
    'source.unpinned': source.type === 'hub' ? `${source.repo}@${source.revision}` : 'local',
  }),
  async preflight({ source }, ctx) {
    if (source.type === 'hub') {
      const availability = await shardAvailabilityChecks({ source }, { env: ctx.env });
      const resolved = await resolveSourceShards(source, ctx.env);
      if (!resolved.ok) return availability;
      const listed = { ...source, shards: resolved.value.shards.map((shard) => shard.path) };
      // The token and each shard's access are proven by the HEADs; keep only the estimate.
      const estimate = availability.filter((check) => check.subject.startsWith('shards of'));
      return [...(await proveHubDataset(listed, ctx)).checks, ...estimate];
    }
    const pinned = await biomedicaSourceFingerprint(source, {
      cacheDir: '',
      baseDir: projectRoot(),
    });
    return [
      pinned.ok
        ? { part: 'data', subject: 'local shards', outcome: 'passed', detail: 'present' }
        : {
            part: 'data',
            subject: 'local shards',
            outcome: 'failed',
            detail: pinned.error.message,
            setting: 'data.source.paths',
          },
    ];
  },
  // The hub shards' bytes, from the sizes the tree API listed; local shards cost nothing.
  async estimate({ source }, ctx): Promise<StageEstimate> {
    if (source.type !== 'hub') return { amounts: {} };
    const resolved = await resolveSourceShards(source, ctx.env);
    return resolved.ok
      ? {
          amounts: {
            'download bytes': resolved.value.shards.reduce((sum, shard) => sum + shard.size, 0),
          },
          note: 'shards already in the cache are not downloaded again',
        }
      : { amounts: {}, note: `download size unknown until the hub answers for ${source.repo}` };
  },
  planNotes: ({ source }, { recent }) => describeSourceForPlan(source, { recent }),
  missingGroup: 'missing-article-id',
};

/**
 * BIOMEDICA samples as the seam's items: a sample the ETL left without metadata, or outside the
 * label filter, is dropped here; the rest become records whose group is the article.
 */
export async function* biomedicaItems(
  samples: AsyncIterable<Result<BiomedicaSample, DataSourceFailure>>,
  filter: LabelFilter,
): AsyncGenerator<Result<SourceItem, DataSourceFailure>> {
  for await (const item of samples) {
    if (!item.ok) {
      yield item;
      return;
    }
    yield ok(sampleItem(item.value, filter));
  }
}

function sampleItem(sample: BiomedicaSample, filter: LabelFilter): SourceItem {
  const drop = (reason: Extract<SourceItem, { kind: 'drop' }>['reason']): SourceItem => ({
    kind: 'drop',
    id: sample.key,
    origin: sample.shard,
    reason,
  });
  if (sample.oversized) return drop('entry-too-large');
  const metadata = sample.metadata;
  if (!metadata || 'unparseable' in metadata) return drop('no-metadata');
  const labels = judgeLabels(metadata, filter);
  if (!labels.keep) return drop(labels.reason);
  const group = stringField(metadata, 'article_accession_id');
  return {
    kind: 'record',
    record: {
      id: sample.key,
      origin: sample.shard,
      ...(sample.image ? { image: sample.image } : {}),
      ...(sample.caption !== undefined ? { caption: sample.caption } : {}),
      ...(group ? { group } : {}),
      fields: {
        mentions: figureMentions(metadata),
        image_size: imageSize(metadata.image_size),
        license: stringField(metadata, 'article_license'),
        title: stringField(metadata, 'article_title'),
        citation: stringField(metadata, 'article_citation'),
        journal: stringField(metadata, 'article_journal'),
        figure_id: stringField(metadata, 'image_cluster_id'),
        primary_labels: labels.primary,
        secondary_labels: labels.secondary,
      },
    },
  };
}

function sourceOptions(options: ReadOptions): SourceOptions {
  return {
    cacheDir: options.cacheDir,
    baseDir: options.baseDir,
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.recent ? { recent: true } : {}),
  };
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
