import { projectRoot } from '../../runner/project-root.ts';
import type { FingerprintContext } from '../../runner/stage-kind.ts';
import { dataSourceFor } from '../sources/data-source.ts';
import type { CurateParams } from './contract.ts';
import { sourceSettings } from './source-settings.ts';

// What keys and describes the curate stage's source, apart from the run's code: plan loads
// this and the source's module, not curate's image checks.

/**
 * What pins the data, as the source's module says (a hub commit and file list, or the content
 * of local files). When it cannot answer (the hub is out of reach), the key says the source is
 * unpinned and preflight reports why; the run itself would fail the same way.
 */
export async function curateFingerprints(
  params: CurateParams,
  ctx: FingerprintContext,
): Promise<Record<string, string>> {
  const settings = sourceSettings(params);
  const module = await dataSourceFor(settings.source);
  const pinned = await module.fingerprint(settings, {
    cacheDir: '',
    baseDir: projectRoot(),
    recent: !ctx.fresh,
  });
  return pinned.ok ? pinned.value : module.unpinned(settings.source);
}

export async function curatePlanNotes(params: CurateParams): Promise<string[]> {
  const settings = sourceSettings(params);
  // Plan notes are plan's alone: a recent answer of the hub serves, as for plan's keys.
  return (await dataSourceFor(settings.source)).planNotes(settings, { recent: true });
}
