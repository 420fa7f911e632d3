import type { PreflightCheck } from '../../runner/preflight-check.ts';
import { projectRoot } from '../../runner/project-root.ts';
import type { Result } from '../../runner/result.ts';
import { formatAge } from '../shared/recent-hub-answers.ts';
import {
  type BiomedicaSource,
  type HubSource,
  hubEndpoint,
  hubToken,
  type ResolvedHubShards,
  resolveHubShards,
  type SourceFailure,
  type SourceOptions,
} from './biomedica-source.ts';
import {
  estimateSource,
  formatBytes,
  formatCount,
  type SourceEstimate,
  trainSizeShortfall,
} from './source-estimate.ts';

/**
 * The data source's proofs before a run: the token is there, the shards resolve at the pinned
 * commit (the hub's tree API answers, every listed shard exists), and the shards can hold
 * enough figures for the train size. Plain values, for `dermatune preflight` and the kinds'
 * preflight hooks alike.
 */
export interface SourceCheckParams {
  source: BiomedicaSource;
  /** The variant's train size; absent, only availability is checked. */
  trainSize?: number | 'all';
  /** Share of images held out for test (the train split is the rest). */
  testFraction?: number;
}

export interface SourceCheckOptions {
  env?: Record<string, string | undefined>;
  /** For fixtures whose samples are far smaller than BIOMEDICA's. */
  bytesPerSample?: number;
  /** The views' mode (SourceOptions.recent): a recent answer of the hub serves. */
  recent?: boolean;
}

export async function shardAvailabilityChecks(
  params: SourceCheckParams,
  options: SourceCheckOptions = {},
): Promise<PreflightCheck[]> {
  const source = params.source;
  if (source.type !== 'hub') {
    return [
      {
        part: 'data',
        subject: 'local shards',
        outcome: 'skipped',
        detail: 'local shards are read as they are; nothing to download or estimate',
      },
    ];
  }
  const checks: PreflightCheck[] = [];
  const sourceOptions = optionsFor(options);
  const tokenName = source.token_env ?? 'HF_TOKEN';
  const hasToken = hubToken(source, sourceOptions) !== undefined;
  checks.push({
    part: 'hub',
    subject: `token for ${source.repo}`,
    outcome: hasToken ? 'passed' : 'failed',
    detail: hasToken
      ? `${tokenName} is set`
      : `${tokenName} is not set; ${source.repo} is gated on the hub and answers 401 without a token`,
    setting: tokenName,
  });
  const resolved = await resolveOnce(source, sourceOptions);
  if (!resolved.ok) {
    checks.push({
      part: 'hub',
      subject: `shards of ${source.repo}@${source.revision}`,
      outcome: 'failed',
      detail: resolved.error.message,
      setting: 'data.source',
    });
    return checks;
  }
  const estimate = estimateSource(source.repo, resolved.value.shards, options.bytesPerSample);
  checks.push({
    part: 'hub',
    subject: `shards of ${source.repo}@${resolved.value.commit.slice(0, 12)}`,
    outcome: 'passed',
    detail: describeEstimate(estimate),
    setting: 'data.source.shards',
  });
  if (params.trainSize !== undefined) {
    const short = trainSizeShortfall(
      estimate.candidates,
      params.trainSize,
      params.testFraction ?? 0,
    );
    checks.push({
      part: 'data',
      subject: `train size ${params.trainSize}`,
      outcome: short ? 'failed' : 'passed',
      detail: short
        ? `needs at least ${formatCount(short.needed)} curated figures, the selected shards hold about ${formatCount(estimate.candidates)} (short by ${formatCount(short.short)}); select more shards or a smaller train size`
        : params.trainSize === 'all'
          ? 'all: takes whatever the data holds'
          : `about ${formatCount(estimate.candidates)} candidate figures (category selection will take fewer)`,
      setting: 'data.train_size',
    });
  }
  return checks;
}

/** Lines for `plan`: the resolved shard list, or plainly why it could not be resolved. */
export async function describeSourceForPlan(
  source: BiomedicaSource,
  options: SourceCheckOptions = {},
): Promise<string[]> {
  if (source.type !== 'hub') return [`data: local shards ${source.paths.join(', ')}`];
  const resolved = await resolveOnce(source, optionsFor(options));
  if (!resolved.ok) {
    return [
      `data: ${source.repo}@${source.revision}: the dataset's index (the hub's revision and tree API) is not reachable, so the shard list is not resolved: ${resolved.error.message}`,
    ];
  }
  const { commit, shards, recalledAgeMs } = resolved.value;
  const names = shards.map((shard) => shard.path);
  const shown =
    names.length <= 6 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, ... ${names.at(-1)}`;
  // A recent answer of the hub stood in for asking it: say whose answer and how old.
  const recalled =
    recalledAgeMs === undefined
      ? ''
      : ` (${source.revision} as the hub named it ${formatAge(recalledAgeMs)} ago; run asks again)`;
  return [
    `data: ${source.repo}@${commit.slice(0, 12)}${recalled}: ${shown}`,
    `data: ${describeEstimate(estimateSource(source.repo, shards, options.bytesPerSample))}`,
  ];
}

export function describeEstimate(estimate: SourceEstimate): string {
  return `${estimate.shards} shard(s), ${formatBytes(estimate.bytes)} to read, about ${formatCount(estimate.samples)} samples and ${formatCount(estimate.candidates)} Clinical Imaging / Skin Lesion candidates (${estimate.basis})`;
}

// Preflight runs once per node, and several nodes read one source: ask the hub once per source.
const resolutions = new Map<string, Promise<Result<ResolvedHubShards, SourceFailure>>>();

function resolveOnce(source: HubSource, options: SourceOptions) {
  const id = JSON.stringify([
    source,
    hubToken(source, options),
    hubEndpoint(source, options),
    options.recent === true,
  ]);
  let pending = resolutions.get(id);
  if (!pending) {
    pending = resolveHubShards(source, options);
    resolutions.set(id, pending);
  }
  return pending;
}

/** A hub source's shards at its commit, resolved once per process for every stage that asks. */
export function resolveSourceShards(
  source: HubSource,
  env: Readonly<Record<string, string | undefined>> | undefined,
): Promise<Result<ResolvedHubShards, SourceFailure>> {
  return resolveOnce(source, optionsFor({ ...(env ? { env: { ...env } } : {}) }));
}

function optionsFor(options: SourceCheckOptions): SourceOptions {
  return {
    cacheDir: '',
    baseDir: projectRoot(),
    env: options.env,
    ...(options.recent ? { recent: true } : {}),
  };
}
