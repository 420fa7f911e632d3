import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describeRequestError } from '../../runner/preflight-check.ts';
import { fail, ok, type Result } from '../../runner/result.ts';
import {
  formatAge,
  type RecentAnswersOptions,
  recalledTree,
  recentAnswer,
  rememberCommit,
  rememberTree,
  rememberUnreachable,
  UNREACHABLE_TTL_MS,
} from '../shared/recent-hub-answers.ts';
import { DEFAULT_DOWNLOADS } from '../shared/source-schema.ts';
import type { BiomedicaSample } from './biomedica-sample.ts';
import {
  DEFAULT_HUB_ENDPOINT,
  downloadHubFile,
  type HubDownloadFailure,
  type HubRetryPolicy,
} from './hub-download.ts';
import { type HubTreeFailure, type HubTreeFile, listHubTree } from './hub-tree.ts';
import type { ShardReadFailure } from './shard-reader.ts';

/** Where the shards come from: the `data.source` section of a spec. */
export type BiomedicaSource = LocalSource | HubSource;

export interface LocalSource {
  type: 'local';
  /** Shard files or folders holding `.tar` shards (searched recursively, in sorted order). */
  paths: string[];
}

export interface HubSource {
  type: 'hub';
  /** e.g. `BIOMEDICA/biomedica_webdataset_24M`. */
  repo: string;
  /** A commit id, or a branch/tag that is resolved to one before anything is read. */
  revision: string;
  /**
   * Shard paths inside the repository (`commercial/000000.tar`), or a selection resolved
   * through the hub's tree API at the pinned commit: every `.tar` under `under` (the root when
   * absent), in path order.
   */
  shards: string[] | ShardSelection;
  /** Shards downloaded at once (each streamed, resumable and checked); see DEFAULT_DOWNLOADS. */
  downloads?: number;
  /** Defaults to HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** Name of the environment variable holding the token; defaults to HF_TOKEN. */
  token_env?: string;
}

export interface ShardSelection {
  select: 'all';
  /** Folder inside the repository whose `.tar` files are taken, recursively. */
  under?: string;
}

export interface SourceOptions {
  /** Where downloaded shards are cached (under the store, so they survive between runs). */
  cacheDir: string;
  /** Relative local paths are resolved against it (the spec's folder or the project root). */
  baseDir: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  retry?: Partial<HubRetryPolicy>;
  log?: (line: string) => void;
  /**
   * For the views (plan, status, why): a commit the branch named within the last minutes, and
   * a commit's tree listed before, serve instead of asking the hub
   * (stages/shared/recent-hub-answers.ts). Absent, the hub is asked, as `run` must. Either way
   * what the hub says is kept for the views.
   */
  recent?: boolean;
  /** Where the hub's answers are kept; for tests. */
  answers?: RecentAnswersOptions;
}

export type SourceFailure =
  | { reason: 'no-shards'; message: string }
  | { reason: 'revision-unresolved'; message: string }
  | HubTreeFailure
  | (HubDownloadFailure & { shard: string })
  | ShardReadFailure;

const COMMIT_ID = /^[0-9a-f]{40}$/;
/** The revision API answers in milliseconds; a hang means the network is gone. */
const REVISION_TIMEOUT_MS = 30_000;

/**
 * Every sample of the source, shard after shard, streamed. Hub shards are downloaded into the
 * cache first (resumable), then streamed from disk like local ones. A failure ends the iteration.
 */
export async function* readBiomedicaSource(
  source: BiomedicaSource,
  options: SourceOptions,
): AsyncGenerator<Result<BiomedicaSample, SourceFailure>> {
  // Downloads running ahead are stopped when the reader stops early (a `limit`, a failure).
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  try {
    yield* readShards(source, { ...options, signal });
  } finally {
    stop.abort();
  }
}

async function* readShards(
  source: BiomedicaSource,
  options: SourceOptions,
): AsyncGenerator<Result<BiomedicaSample, SourceFailure>> {
  const shards = await shardFiles(source, options);
  if (!shards.ok) {
    yield shards;
    return;
  }
  const handles = shards.value;
  const window = source.type === 'hub' ? (source.downloads ?? DEFAULT_DOWNLOADS) : 1;
  // Up to `window` downloads run ahead of the shard being read; the reader still takes shards
  // in order, so the samples come out in the same order whatever the download speeds.
  const pending: Promise<Result<string, SourceFailure>>[] = [];
  let started = 0;
  const topUp = () => {
    while (started < handles.length && pending.length < window) {
      const handle = handles[started++];
      if (handle) pending.push(handle.fetch());
    }
  };
  topUp();
  for (const shard of handles) {
    const file = await pending.shift();
    topUp();
    if (!file) return;
    if (!file.ok) {
      yield file;
      return;
    }
    // Loaded here, by a run: keying and planning a source (the fingerprint) reads no tar.
    const { readShardSamples } = await import('./shard-reader.ts');
    for await (const item of readShardSamples(createReadStream(file.value), shard.name)) {
      yield item;
      if (!item.ok) return;
    }
  }
}

/** The shards a hub source names, with their sizes, at the commit its revision resolves to. */
export interface ResolvedHubShards {
  commit: string;
  shards: HubTreeFile[];
  /** Set when the commit is what the hub said that long ago (`recent`), not asked now. */
  recalledAgeMs?: number;
}

/**
 * The shard list of a hub source, resolved at its commit through the tree API: a selection
 * becomes its `.tar` files; an explicit list is checked against the tree (a listed shard that
 * the commit lacks is refused up front, before anything is downloaded) and gets its sizes.
 */
export async function resolveHubShards(
  source: HubSource,
  options: SourceOptions,
): Promise<Result<ResolvedHubShards, SourceFailure>> {
  const pinned = await revisionCommit(source, options);
  if (!pinned.ok) return pinned;
  const commit = ok(pinned.value.commit);
  const recalled = pinned.value.ageMs === undefined ? {} : { recalledAgeMs: pinned.value.ageMs };
  const listing = async (path: string): Promise<Result<HubTreeFile[], HubTreeFailure>> => {
    const place = { ...hubPlace(source, options), revision: commit.value, path };
    const known = options.recent
      ? await recalledTree<HubTreeFile>(place, options.answers)
      : undefined;
    if (known) return ok(known);
    const files = await listHubTree({
      endpoint: hubEndpoint(source, options),
      repo: source.repo,
      revision: commit.value,
      path,
      token: hubToken(source, options),
      signal: options.signal,
    });
    if (files.ok) await rememberTree(place, files.value, options.answers);
    return files;
  };
  if (!Array.isArray(source.shards)) {
    const under = source.shards.under ?? '';
    const files = await listing(under);
    if (!files.ok) return files;
    const tars = files.value
      .filter((file) => file.path.endsWith('.tar'))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (tars.length === 0) {
      return fail({
        reason: 'no-shards',
        message: `no .tar shards under ${under || 'the root'} of ${source.repo}@${commit.value}`,
      });
    }
    return ok({ commit: commit.value, shards: tars, ...recalled });
  }
  const folders = [...new Set(source.shards.map(folderOf))];
  const sizes = new Map<string, number>();
  for (const folder of folders) {
    const files = await listing(folder);
    if (!files.ok) return files;
    for (const file of files.value) sizes.set(file.path, file.size);
  }
  const shards: HubTreeFile[] = [];
  for (const path of source.shards) {
    const size = sizes.get(path);
    if (size === undefined) {
      return fail({
        reason: 'not-found',
        url: `${source.repo}@${commit.value}`,
        message: `${path} is not in ${source.repo} at ${commit.value}`,
        shard: path,
      });
    }
    shards.push({ path, size });
  }
  return ok({ commit: commit.value, shards, ...recalled });
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * What pins the source's content, for the stage key: for the hub the repository, the commit id
 * (a branch name is resolved through the hub API, so a moved branch makes a new key) and the
 * shard list; for local shards the SHA-256 of each file.
 */
export async function biomedicaSourceFingerprint(
  source: BiomedicaSource,
  options: SourceOptions,
): Promise<Result<Record<string, string>, SourceFailure>> {
  if (source.type === 'hub') {
    // A selection enters the key as the list it resolves to: the same key as writing it out.
    const resolved = Array.isArray(source.shards)
      ? await resolveHubRevision(source, options).then((commit) =>
          commit.ok ? ok({ commit: commit.value, paths: source.shards as string[] }) : commit,
        )
      : await resolveHubShards(source, options).then((shards) =>
          shards.ok
            ? ok({ commit: shards.value.commit, paths: shards.value.shards.map((s) => s.path) })
            : shards,
        );
    if (!resolved.ok) return resolved;
    return ok({
      'source.repo': source.repo,
      'source.revision': resolved.value.commit,
      'source.shards': resolved.value.paths.join(','),
    });
  }
  const files = await localShardFiles(source, options.baseDir);
  if (!files.ok) return files;
  const digest = createHash('sha256');
  for (const file of files.value) {
    digest.update(`${relative(options.baseDir, file)}\u0000${await fileSha256(file)}\n`);
  }
  return ok({ 'source.shards-sha256': digest.digest('hex') });
}

/**
 * The commit a revision names, through the hub API (`/api/datasets/<repo>/revision/<rev>`,
 * whose JSON carries `sha`). A commit id is returned as is, without a request.
 */
export async function resolveHubRevision(
  source: HubSource,
  options: SourceOptions,
): Promise<Result<string, SourceFailure>> {
  const pinned = await revisionCommit(source, options);
  return pinned.ok ? ok(pinned.value.commit) : pinned;
}

function hubPlace(source: HubSource, options: SourceOptions) {
  return {
    endpoint: hubEndpoint(source, options),
    type: 'datasets',
    repo: source.repo,
    revision: source.revision,
  } as const;
}

/** The commit, and how old the answer is when it is a recent one rather than asked now. */
async function revisionCommit(
  source: HubSource,
  options: SourceOptions,
): Promise<Result<{ commit: string; ageMs?: number }, SourceFailure>> {
  if (COMMIT_ID.test(source.revision)) return ok({ commit: source.revision });
  const place = hubPlace(source, options);
  const recent = options.recent ? await recentAnswer(place, options.answers) : undefined;
  if (recent && 'unreachable' in recent) {
    const when = recent.askedHere
      ? ''
      : ` (${formatAge(recent.ageMs)} ago; plan asks again after ${formatAge(UNREACHABLE_TTL_MS)}, run always does)`;
    return fail({ reason: 'revision-unresolved', message: `${recent.unreachable}${when}` });
  }
  // What this process asked the hub a moment ago is no older answer: plan notes say nothing then.
  if (recent) return ok(recent.askedHere ? { commit: recent.commit } : recent);
  const asked = await askHubRevision(source, options);
  if (asked.ok) await rememberCommit(place, asked.value, options.answers);
  else if (asked.error.unreachable) {
    await rememberUnreachable(place, asked.error.failure.message, options.answers);
  }
  return asked.ok ? ok({ commit: asked.value }) : fail(asked.error.failure);
}

/** The hub's answer; `unreachable` when none came at all (no network, a timeout). */
async function askHubRevision(
  source: HubSource,
  options: SourceOptions,
): Promise<Result<string, { failure: SourceFailure; unreachable: boolean }>> {
  const failed = (message: string, unreachable = false) =>
    fail({ failure: { reason: 'revision-unresolved' as const, message }, unreachable });
  const endpoint = hubEndpoint(source, options);
  const url = `${endpoint}/api/datasets/${source.repo}/revision/${encodeURIComponent(source.revision)}`;
  const token = hubToken(source, options);
  try {
    const response = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.any([
        ...(options.signal ? [options.signal] : []),
        AbortSignal.timeout(REVISION_TIMEOUT_MS),
      ]),
    });
    if (!response.ok) {
      return failed(
        `${url}: HTTP ${response.status}${response.status === 401 ? ' (set HF_TOKEN)' : ''}`,
      );
    }
    const body = (await response.json()) as { sha?: unknown };
    if (typeof body.sha !== 'string' || !COMMIT_ID.test(body.sha)) {
      return failed(`${url}: no commit id in the answer`);
    }
    return ok(body.sha);
  } catch (error: unknown) {
    // No answer at all (no network, a timeout), unless the user cancelled.
    return failed(`${url}: ${describeRequestError(error)}`, options.signal?.aborted !== true);
  }
}

export function hubEndpoint(source: HubSource, options: SourceOptions): string {
  const env = options.env ?? process.env;
  return (source.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

export function hubToken(source: HubSource, options: SourceOptions): string | undefined {
  const env = options.env ?? process.env;
  const value = env[source.token_env ?? 'HF_TOKEN'];
  return value && value.length > 0 ? value : undefined;
}

interface ShardHandle {
  name: string;
  fetch(): Promise<Result<string, SourceFailure>>;
}

async function shardFiles(
  source: BiomedicaSource,
  options: SourceOptions,
): Promise<Result<ShardHandle[], SourceFailure>> {
  if (source.type === 'local') {
    const files = await localShardFiles(source, options.baseDir);
    if (!files.ok) return files;
    return ok(
      files.value.map((file) => ({
        name: relative(options.baseDir, file),
        fetch: async () => ok(file),
      })),
    );
  }
  let paths: string[];
  let commit: Result<string, SourceFailure>;
  if (Array.isArray(source.shards)) {
    if (source.shards.length === 0) {
      return fail({ reason: 'no-shards', message: `no shards listed for ${source.repo}` });
    }
    paths = source.shards;
    commit = await resolveHubRevision(source, options);
  } else {
    const resolved = await resolveHubShards(source, options);
    if (!resolved.ok) return resolved;
    paths = resolved.value.shards.map((shard) => shard.path);
    commit = ok(resolved.value.commit);
  }
  if (!commit.ok) return commit;
  const revision = commit.value;
  return ok(
    paths.map((path) => ({
      name: path,
      fetch: async () => {
        const downloaded = await downloadHubFile({
          endpoint: hubEndpoint(source, options),
          repo: source.repo,
          revision,
          path,
          token: hubToken(source, options),
          cacheDir: options.cacheDir,
          signal: options.signal,
          retry: options.retry,
          onAttempt: (note) => options.log?.(`${path}: ${note}`),
        });
        if (!downloaded.ok) return fail({ ...downloaded.error, shard: path });
        return ok(downloaded.value.file);
      },
    })),
  );
}

async function localShardFiles(
  source: LocalSource,
  baseDir: string,
): Promise<Result<string[], SourceFailure>> {
  const files: string[] = [];
  for (const path of source.paths) {
    const absolute = resolve(baseDir, path);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) return fail({ reason: 'no-shards', message: `${absolute} does not exist` });
    if (info.isDirectory()) files.push(...(await tarFilesUnder(absolute)));
    else if (info.isFile()) files.push(absolute);
    else {
      // A FIFO or a device (/dev/zero) would hang hashing and reading, or never end.
      return fail({
        reason: 'no-shards',
        message: `${absolute} is not a regular file or a folder (${fileKind(info)}); shards are .tar files`,
      });
    }
  }
  if (files.length === 0) {
    return fail({ reason: 'no-shards', message: `no .tar shards in ${source.paths.join(', ')}` });
  }
  return ok(files);
}

function fileKind(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}

async function tarFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.tar'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
