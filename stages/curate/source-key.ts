import { projectRoot } from '../../runner/project-root.ts';
import type { FingerprintContext } from '../../runner/stage-kind.ts';
import { biomedicaSourceFingerprint } from '../biomedica/biomedica-source.ts';
import type { CurateParams } from './contract.ts';
import { describeSourceForPlan } from './source-checks.ts';

// What keys and describes the curate stage's source, apart from the run's code: plan loads
// this, and not the shard reader or the image checks.

/**
 * What pins the data: the hub commit (a branch is resolved to one) and shard list, or the
 * content of local shards. When the hub cannot be asked, the key says so and preflight reports
 * why; the run itself would fail the same way.
 */
export async function curateFingerprints(
  params: CurateParams,
  ctx: FingerprintContext,
): Promise<Record<string, string>> {
  const pinned = await biomedicaSourceFingerprint(params.data.source, {
    cacheDir: '',
    baseDir: projectRoot(),
    recent: !ctx.fresh,
  });
  if (pinned.ok) return pinned.value;
  // Stable whatever the error text, so an offline `plan` shows one key; preflight says why.
  const source = params.data.source;
  return {
    'source.unpinned': source.type === 'hub' ? `${source.repo}@${source.revision}` : 'local',
  };
}

export function curatePlanNotes(params: CurateParams): Promise<string[]> {
  // Plan notes are plan's alone: a recent answer of the hub serves, as for plan's keys.
  return describeSourceForPlan(params.data.source, { recent: true });
}
