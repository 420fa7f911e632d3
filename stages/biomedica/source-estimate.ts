import { BIOMEDICA_BYTES_PER_SAMPLE, repoFacts } from './biomedica-facts.ts';
import type { HubTreeFile } from './hub-tree.ts';

/**
 * How much a hub source will read and how many figures it can hold, from the shard sizes the
 * tree API gives and the repository's known share of skin figures: known before a byte of a
 * shard is downloaded.
 */
export interface SourceEstimate {
  shards: number;
  bytes: number;
  /** Samples the shards hold, from their bytes. */
  samples: number;
  /** Samples expected to pass the label filter. */
  candidates: number;
  basis: string;
}

export function estimateSource(
  repo: string,
  shards: readonly HubTreeFile[],
  bytesPerSample: number = BIOMEDICA_BYTES_PER_SAMPLE,
): SourceEstimate {
  const bytes = shards.reduce((sum, shard) => sum + shard.size, 0);
  const samples = Math.round(bytes / bytesPerSample);
  const facts = repoFacts(repo);
  return {
    shards: shards.length,
    bytes,
    samples,
    candidates: Math.floor(samples * facts.filterShare),
    basis: `${formatBytes(bytesPerSample)} a sample; ${facts.basis}`,
  };
}

export interface TrainSizeShortfall {
  /** Curated figures the largest numeric train size needs (train images / (1 - test share)). */
  needed: number;
  short: number;
}

/**
 * Whether the candidates can meet a train size at all. Category selection only removes
 * figures, so fewer candidates than the train split needs is a certain failure; enough
 * candidates is no promise.
 */
export function trainSizeShortfall(
  candidates: number,
  trainSize: number | 'all',
  testFraction: number,
): TrainSizeShortfall | undefined {
  if (trainSize === 'all') return undefined;
  const needed = Math.ceil(trainSize / (1 - testFraction));
  return candidates >= needed ? undefined : { needed, short: needed - candidates };
}

/**
 * A count with thousands separators (12,345), as `toLocaleString('en')` writes an integer, without
 * its first call's cost: loading ICU's number formatting takes about 10 ms, a tenth of `plan`.
 */
export function formatCount(count: number): string {
  return String(Math.round(count)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
