import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';

/**
 * What the hub answered lately, kept on disk so that the views of a sweep (`plan`, `status`,
 * `why`) do not ask the hub on every call: which commit a branch named, and what a commit's
 * tree holds. `run` and `preflight` always ask the hub (their keys decide what is stored) and
 * write what it said here, so a view after a run agrees with it.
 *
 * A branch moves, so its commit is taken from here only while it is younger than
 * `RECENT_REVISION_TTL_MS`; the views say how old it is. A hub that could not be reached at all
 * (no network, no answer) is not asked again by the views for `UNREACHABLE_TTL_MS`: an offline
 * machine's plan would otherwise wait on the network stack and a failed lookup every time. A
 * refusal (401, 404) is never kept: setting a token changes it. A tree at a commit never
 * changes (commits are immutable on the hub), so a listing is kept for good.
 */
export const RECENT_REVISION_TTL_MS = 10 * 60 * 1000;
export const UNREACHABLE_TTL_MS = 60 * 1000;

/** A revision of a repository on one hub (endpoint), as its revision API names it. */
export interface HubRevisionPlace {
  endpoint: string;
  type: 'datasets' | 'models';
  repo: string;
  revision: string;
}

export interface RecentAnswersOptions {
  /** Default: `.dermatune/cache/hub-answers` in the project. */
  dir?: string;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
}

export type RecalledAnswer =
  | {
      commit: string;
      /** How long ago the hub said so. */
      ageMs: number;
      /** This process asked the hub for it (a run's keys, then its plan notes): no older answer. */
      askedHere: boolean;
    }
  | {
      /** Why the hub could not be reached, as it was said then. */
      unreachable: string;
      ageMs: number;
      askedHere: boolean;
    };

const COMMIT_ID = /^[0-9a-f]{40}$/;

/** The answers this process got from the hub itself, by file: when it wrote each. */
const askedHere = new Map<string, string>();

/**
 * The hub's last answer for this revision while it is young enough (a commit within
 * RECENT_REVISION_TTL_MS, unreachable within UNREACHABLE_TTL_MS), or undefined: then ask it.
 */
export async function recentAnswer(
  place: HubRevisionPlace,
  options: RecentAnswersOptions = {},
): Promise<RecalledAnswer | undefined> {
  const file = fileFor('revision', place, options);
  const entry = await readEntry(file, place);
  if (!entry) return undefined;
  const ageMs = (options.now ?? Date.now)() - Date.parse(String(entry.resolved_at));
  const here = askedHere.get(file) === entry.resolved_at;
  // A clock set back (negative age) or an unreadable time is no proof of freshness.
  const young = (ttl: number) => ageMs >= 0 && ageMs < ttl;
  if (typeof entry.commit === 'string' && COMMIT_ID.test(entry.commit)) {
    return young(RECENT_REVISION_TTL_MS)
      ? { commit: entry.commit, ageMs, askedHere: here }
      : undefined;
  }
  if (typeof entry.unreachable === 'string') {
    return young(UNREACHABLE_TTL_MS)
      ? { unreachable: entry.unreachable, ageMs, askedHere: here }
      : undefined;
  }
  return undefined;
}

/** Keeps what the hub just said the revision names. Best effort: a failed write costs a request. */
export function rememberCommit(
  place: HubRevisionPlace,
  commit: string,
  options: RecentAnswersOptions = {},
): Promise<void> {
  return rememberRevision(place, { commit }, options);
}

/** Keeps that the hub could not be reached at all (never a refusal: see above). */
export function rememberUnreachable(
  place: HubRevisionPlace,
  why: string,
  options: RecentAnswersOptions = {},
): Promise<void> {
  return rememberRevision(place, { unreachable: why }, options);
}

/** One revision answer, stamped with when it came and marked as asked in this process. */
async function rememberRevision(
  place: HubRevisionPlace,
  answer: { commit: string } | { unreachable: string },
  options: RecentAnswersOptions,
): Promise<void> {
  const resolvedAt = new Date((options.now ?? Date.now)()).toISOString();
  const file = fileFor('revision', place, options);
  askedHere.set(file, resolvedAt);
  await writeEntry(file, { place, ...answer, resolved_at: resolvedAt });
}

/** How old an answer is, for the views' notes: `40 s`, `3 min`. */
export function formatAge(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** A folder of a commit's tree as the hub listed it, or undefined when it was never listed here. */
export async function recalledTree<T>(
  place: HubRevisionPlace & { path: string },
  options: RecentAnswersOptions = {},
): Promise<T[] | undefined> {
  if (!COMMIT_ID.test(place.revision)) return undefined;
  const entry = await readEntry(fileFor('tree', place, options), place);
  return Array.isArray(entry?.files) ? (entry.files as T[]) : undefined;
}

/** Keeps a commit's tree listing (only a commit's: a branch's tree moves with it). */
export async function rememberTree<T>(
  place: HubRevisionPlace & { path: string },
  files: readonly T[],
  options: RecentAnswersOptions = {},
): Promise<void> {
  if (!COMMIT_ID.test(place.revision)) return;
  await writeEntry(fileFor('tree', place, options), { place, files });
}

function fileFor(
  what: 'revision' | 'tree',
  place: HubRevisionPlace & { path?: string },
  options: RecentAnswersOptions,
): string {
  const dir = options.dir ?? join(projectRoot(), '.dermatune', 'cache', 'hub-answers');
  const id = createHash('sha256')
    .update(JSON.stringify([what, placeId(place)]))
    .digest('hex');
  return join(dir, `${what}-${id.slice(0, 32)}.json`);
}

function placeId(place: HubRevisionPlace & { path?: string }) {
  return [place.endpoint, place.type, place.repo, place.revision, place.path ?? null];
}

async function readEntry(
  file: string,
  place: HubRevisionPlace & { path?: string },
): Promise<Record<string, unknown> | undefined> {
  try {
    const entry = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    // The file name is a digest; the entry still says what it is of, and must say the same.
    const of = entry.place as (HubRevisionPlace & { path?: string }) | undefined;
    if (!of || JSON.stringify(placeId(of)) !== JSON.stringify(placeId(place))) return undefined;
    return entry;
  } catch {
    return undefined;
  }
}

async function writeEntry(file: string, entry: Record<string, unknown>): Promise<void> {
  const temporary = `${file}.${randomUUID()}.tmp`;
  try {
    await mkdir(join(file, '..'), { recursive: true });
    // Renamed into place whole, so a concurrent reader sees the old entry or the new one.
    await writeFile(temporary, JSON.stringify(entry));
    await rename(temporary, file);
  } catch {
    // A cache that cannot be written (read-only checkout) only costs the next view a request.
  }
}
