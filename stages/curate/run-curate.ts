import type {
  PreflightCheck,
  PreflightContext,
  StageEstimate,
} from '../../runner/preflight-check.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { fail, ok, type Result, unreachable } from '../../runner/result.ts';
import type { StageFailure, StageFailureReason, StageSummary } from '../../runner/stage-kind.ts';
import {
  biomedicaSourceFingerprint,
  readBiomedicaSource,
  type SourceFailure,
  type SourceOptions,
} from '../biomedica/biomedica-source.ts';
import { proveHubDataset } from '../biomedica/hub-preflight.ts';
import { CURATE_OUTPUT, type CurateContext, type CurateParams } from './contract.ts';
import { curateSamples } from './curate.ts';
import { DEFAULT_LABEL_FILTER } from './label-filter.ts';
import {
  describeSourceForPlan,
  resolveSourceShards,
  shardAvailabilityChecks,
} from './source-checks.ts';

export async function runCurate(ctx: CurateContext): Promise<Result<StageSummary, StageFailure>> {
  const { source, filter, limit } = ctx.params.data;
  const options: SourceOptions = {
    // Downloaded shards outlive the run and are shared by every curate key of one revision.
    cacheDir: ctx.cacheDir,
    baseDir: projectRoot(),
    signal: ctx.signal,
    log: (line) => ctx.report({ type: 'log', level: 'info', message: line }),
  };
  if (source.type === 'hub') {
    // What this run will read, said before the first byte of a shard is downloaded.
    for (const line of await describeSourceForPlan(source)) {
      ctx.report({ type: 'log', level: 'info', message: line });
    }
  }
  const result = await curateSamples(readBiomedicaSource(source, options), ctx.outDir, {
    filter: { ...DEFAULT_LABEL_FILTER, ...filter },
    limit,
    progressEvery: 500,
    onProgress: (stats) =>
      ctx.report({
        type: 'log',
        level: 'info',
        message: `read ${stats.read} samples, kept ${stats.kept}`,
      }),
  });
  if (!result.ok) {
    return fail({ reason: stageReason(result.error), message: result.error.message });
  }
  const stats = result.value;
  const metrics: Record<string, number> = {
    'curate/read': stats.read,
    'curate/kept': stats.kept,
    'curate/articles': stats.articles,
    'curate/kept_with_credit_caption': stats.kept_with_credit_caption,
  };
  for (const [reason, count] of Object.entries(stats.dropped)) {
    metrics[`curate/dropped/${reason}`] = count ?? 0;
  }
  return ok({
    metrics,
    stats: { ...stats },
    artifacts: [CURATE_OUTPUT.stats, CURATE_OUTPUT.dropped],
  });
}

/**
 * For hub data: the shard list resolves at the pinned commit (a selection through the hub's
 * tree API), the revision and every shard are readable with the token (the dataset is gated;
 * see stages/biomedica/hub-preflight.ts), and the shards' size says how many figures they can
 * hold. For local shards: they are there.
 */
export async function curatePreflight(
  params: CurateParams,
  ctx: PreflightContext,
): Promise<PreflightCheck[]> {
  const source = params.data.source;
  if (source.type === 'hub') {
    const availability = await shardAvailabilityChecks({ source }, { env: ctx.env });
    const resolved = await resolveSourceShards(source, ctx.env);
    if (!resolved.ok) return availability;
    const listed = { ...source, shards: resolved.value.shards.map((shard) => shard.path) };
    // The token and each shard's access are proven by the HEADs; keep only the estimate.
    const estimate = availability.filter((check) => check.subject.startsWith('shards of'));
    return [...(await proveHubDataset(listed, ctx)).checks, ...estimate];
  }
  const pinned = await biomedicaSourceFingerprint(source, { cacheDir: '', baseDir: projectRoot() });
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
}

/** The hub shards' bytes, from the sizes the tree API listed; local shards cost nothing. */
export async function curateEstimate(
  params: CurateParams,
  ctx: PreflightContext,
): Promise<StageEstimate> {
  const source = params.data.source;
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
}

function stageReason(failure: SourceFailure): StageFailureReason {
  switch (failure.reason) {
    case 'unauthorized':
      return 'missing-credentials';
    case 'cancelled':
      return 'cancelled';
    case 'revision-unresolved':
    case 'tree-unreachable':
    case 'checksum-mismatch':
    case 'gave-up':
      return 'external-service';
    case 'no-shards':
    case 'not-found':
    case 'corrupt-shard':
      return 'invalid-input';
    default:
      return unreachable(failure);
  }
}
