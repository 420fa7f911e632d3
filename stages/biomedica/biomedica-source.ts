import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import type { BiomedicaSample } from './biomedica-sample.ts';
import {
  DEFAULT_HUB_ENDPOINT,
  downloadHubFile,
  type HubDownloadFailure,
  type RetryPolicy,
} from './hub-download.ts';
import { readShardSamples, type ShardReadFailure } from './shard-reader.ts';

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
  /** Shard paths inside the repository, e.g. `commercial/000000.tar`. */
  shards: string[];
  /** Defaults to HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** Name of the environment variable holding the token; defaults to HF_TOKEN. */
  token_env?: string;
}

export interface SourceOptions {
  /** Where downloaded shards are cached (under the store, so they survive between runs). */
  cacheDir: string;
  /** Relative local paths are resolved against it (the spec's folder or the project root). */
  baseDir: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
}

export type SourceFailure =
  | { reason: 'no-shards'; message: string }
  | { reason: 'revision-unresolved'; message: string }
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
  const shards = await shardFiles(source, options);
  if (!shards.ok) {
    yield shards;
    return;
  }
  for (const shard of shards.value) {
    const file = await shard.fetch();
    if (!file.ok) {
      yield file;
      return;
    }
    for await (const item of readShardSamples(createReadStream(file.value), shard.name)) {
      yield item;
      if (!item.ok) return;
    }
  }
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
    const commit = await resolveHubRevision(source, options);
    if (!commit.ok) return commit;
    return ok({
      'source.repo': source.repo,
      'source.revision': commit.value,
      'source.shards': source.shards.join(','),
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
  if (COMMIT_ID.test(source.revision)) return ok(source.revision);
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
      return fail({
        reason: 'revision-unresolved',
        message: `${url}: HTTP ${response.status}${response.status === 401 ? ' (set HF_TOKEN)' : ''}`,
      });
    }
    const body = (await response.json()) as { sha?: unknown };
    if (typeof body.sha !== 'string' || !COMMIT_ID.test(body.sha)) {
      return fail({ reason: 'revision-unresolved', message: `${url}: no commit id in the answer` });
    }
    return ok(body.sha);
  } catch (error: unknown) {
    return fail({
      reason: 'revision-unresolved',
      message: `${url}: ${error instanceof Error ? error.message : String(error)}`,
    });
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
  if (source.shards.length === 0) {
    return fail({ reason: 'no-shards', message: `no shards listed for ${source.repo}` });
  }
  const commit = await resolveHubRevision(source, options);
  if (!commit.ok) return commit;
  return ok(
    source.shards.map((path) => ({
      name: path,
      fetch: async () => {
        const downloaded = await downloadHubFile({
          endpoint: hubEndpoint(source, options),
          repo: source.repo,
          revision: commit.value,
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
