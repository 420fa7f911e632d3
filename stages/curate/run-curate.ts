import type {
  PreflightCheck,
  PreflightContext,
  StageEstimate,
} from '../../runner/preflight-check.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { fail, ok, type Result, unreachable } from '../../runner/result.ts';
import type { StageFailure, StageFailureReason, StageSummary } from '../../runner/stage-kind.ts';
import { type DataSourceFailure, dataSourceFor } from '../sources/data-source.ts';
import { CURATE_OUTPUT, type CurateContext, type CurateParams } from './contract.ts';
import { type CurateStats, curateRecords } from './curate.ts';
import { sourceSettings } from './source-settings.ts';

export async function runCurate(ctx: CurateContext): Promise<Result<StageSummary, StageFailure>> {
  const settings = sourceSettings(ctx.params);
  const source = await dataSourceFor(settings.source);
  const log = (line: string) => ctx.report({ type: 'log', level: 'info', message: line });
  // What this run will read, said before the first byte is read or downloaded.
  for (const line of await source.planNotes(settings, { recent: false })) log(line);
  const items = source.read(settings, {
    // Downloads outlive the run and are shared by every curate key of one revision.
    cacheDir: ctx.cacheDir,
    baseDir: projectRoot(),
    signal: ctx.signal,
    log,
  });
  const firstDrops = new Map<string, string[]>();
  const result = await curateRecords(items, ctx.outDir, {
    missingGroup: source.missingGroup,
    onDrop: ({ key, shard, reason }) => {
      const named = firstDrops.get(reason) ?? [];
      if (named.length < DROPS_NAMED) named.push(`${key} at ${shard}`);
      firstDrops.set(reason, named);
    },
    limit: ctx.params.data.limit,
    progressEvery: 500,
    onProgress: (stats) => log(`read ${stats.read} records, kept ${stats.kept}`),
  });
  if (!result.ok) {
    const { error } = result;
    const setting = error.reason === 'unusable-source' ? `${error.setting}: ` : '';
    return fail({ reason: stageReason(error), message: `${setting}${error.message}` });
  }
  const stats = result.value;
  const dropped = describeDrops(stats, firstDrops);
  if (dropped) log(dropped);
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

/** The source's own proofs (see each source module); cached stages are never asked. */
export async function curatePreflight(
  params: CurateParams,
  ctx: PreflightContext,
): Promise<PreflightCheck[]> {
  const settings = sourceSettings(params);
  return (await dataSourceFor(settings.source)).preflight(settings, ctx);
}

export async function curateEstimate(
  params: CurateParams,
  ctx: PreflightContext,
): Promise<StageEstimate> {
  const settings = sourceSettings(params);
  return (await dataSourceFor(settings.source)).estimate(settings, ctx);
}

/** How many dropped records of a reason the log names; dropped.jsonl lists them all. */
const DROPS_NAMED = 3;

/** One line naming how many records each reason dropped, and the first few of each. */
function describeDrops(stats: CurateStats, first: Map<string, string[]>): string | undefined {
  const parts = Object.entries(stats.dropped).map(([reason, count]) => {
    const named = first.get(reason) ?? [];
    const more = (count ?? 0) > named.length ? ', ...' : '';
    return `${count} ${reason} (${named.join('; ')}${more})`;
  });
  return parts.length > 0
    ? `dropped ${parts.join(', ')}; all listed in ${CURATE_OUTPUT.dropped}`
    : undefined;
}

function stageReason(failure: DataSourceFailure): StageFailureReason {
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
    case 'unusable-source':
      return 'invalid-input';
    default:
      return unreachable(failure);
  }
}
