import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import {
  type AttemptVerdict,
  parseRetryAfter,
  type RetryPolicy,
  retrying,
} from '../../runner/retry-policy.ts';

/**
 * Downloads one file of a Hugging Face repository (a dataset or a model) over the hub's HTTP
 * protocol (`<endpoint>[/datasets]/<repo>/resolve/<revision>/<path>`), into an on-disk cache,
 * so a file is fetched once per revision. The content is checked against what the hub says of
 * it: the size, and the SHA-256 of an LFS file (`X-Linked-Etag`) or the git blob id of a small
 * one (its `ETag`). A broken transfer keeps its `.part` file and the next attempt
 * resumes it with an HTTP Range request; transient failures (network errors, stalls, 429, 5xx)
 * are retried (HUB_RETRY: exponential backoff with full jitter, honouring Retry-After).
 */
export type HubRepoType = 'dataset' | 'model';

export interface HubFileRequest {
  /** `https://huggingface.co` unless overridden (HF_ENDPOINT, a mirror, a test server). */
  endpoint: string;
  /** `owner/name` of the repository. */
  repo: string;
  /** Defaults to `dataset`. */
  repoType?: HubRepoType;
  /** A commit id pins the content; a branch name is resolved by the hub at request time. */
  revision: string;
  /** Path inside the repository, e.g. `commercial/000000.tar`. */
  path: string;
  /** Sent as a bearer token; BIOMEDICA is gated, so the hub answers 401 without one. */
  token?: string;
  cacheDir: string;
  signal?: AbortSignal;
  retry?: Partial<HubRetryPolicy>;
  /** Called once per attempt with what happened, for the stage log. */
  onAttempt?: (note: string) => void;
  /** Called as bytes arrive: the bytes on disk so far and the total when known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
}

export interface HubRetryPolicy extends RetryPolicy {
  /** A transfer that receives nothing for this long is aborted and resumed. */
  stallTimeoutMs: number;
}

export interface HubFile {
  file: string;
  bytes: number;
  /** Whether the cache already held it. */
  cached: boolean;
  /** Attempts that continued a partial download with a Range request. */
  resumes: number;
}

export interface HubDownloadFailure {
  reason: 'unauthorized' | 'not-found' | 'checksum-mismatch' | 'gave-up' | 'cancelled';
  url: string;
  message: string;
}

/** Six attempts of a file; several shards download at once, hence the jitter. */
const HUB_RETRY: HubRetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: 'full',
  stallTimeoutMs: 60_000,
};

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export function hubResolveUrl(
  endpoint: string,
  repo: string,
  revision: string,
  path: string,
  repoType: HubRepoType = 'dataset',
) {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const prefix = repoType === 'dataset' ? '/datasets' : '';
  return `${endpoint.replace(/\/+$/, '')}${prefix}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
}

/** Where a downloaded file lives in the cache: one folder per repository and revision. */
export function hubCachePath(
  cacheDir: string,
  repo: string,
  revision: string,
  path: string,
  repoType: HubRepoType = 'dataset',
) {
  return join(cacheDir, hubRevisionFolder(repo, revision, repoType), ...path.split('/'));
}

/** The cache folder of one revision, relative to the cache: its files keep their repo paths. */
export function hubRevisionFolder(repo: string, revision: string, repoType: HubRepoType) {
  return join(`${repoType}s--${repo.replace(/\//g, '--')}`, revision);
}

export async function downloadHubFile(
  request: HubFileRequest,
): Promise<Result<HubFile, HubDownloadFailure>> {
  const policy = { ...HUB_RETRY, ...request.retry };
  const repoType = request.repoType ?? 'dataset';
  const url = hubResolveUrl(
    request.endpoint,
    request.repo,
    request.revision,
    request.path,
    repoType,
  );
  const target = hubCachePath(
    request.cacheDir,
    request.repo,
    request.revision,
    request.path,
    repoType,
  );
  const cachedSize = await fileSize(target);
  if (cachedSize !== undefined)
    return ok({ file: target, bytes: cachedSize, cached: true, resumes: 0 });
  await mkdir(dirname(target), { recursive: true });
  const part = `${target}.part`;
  let resumes = 0;
  type Failed = Result<never, HubDownloadFailure>;
  const once = async (
    attempt: number,
  ): Promise<AttemptVerdict<Result<HubFile, HubDownloadFailure>, string>> => {
    const have = (await fileSize(part)) ?? 0;
    const outcome = await attemptTransfer(url, part, have, request, policy);
    request.onAttempt?.(`attempt ${attempt} from byte ${have}: ${outcome.kind} ${outcome.detail}`);
    if (have > 0 && outcome.resumed) resumes++;
    switch (outcome.kind) {
      case 'complete': {
        const verified = await verifyChecksum(part, outcome.digest);
        if (!verified) {
          await rm(part, { force: true });
          const mismatch: Failed = fail({
            reason: 'checksum-mismatch',
            url,
            message: `${request.path}: ${outcome.digest?.kind} differs from the hub's ETag ${outcome.digest?.hex}`,
          });
          return { verdict: 'final', value: mismatch };
        }
        await rename(part, target);
        const bytes = (await fileSize(target)) ?? 0;
        return { verdict: 'final', value: ok({ file: target, bytes, cached: false, resumes }) };
      }
      case 'fatal':
        return {
          verdict: 'final',
          value: fail({ reason: outcome.reason, url, message: outcome.detail }),
        };
      case 'restart':
        await rm(part, { force: true });
        return { verdict: 'retry-now', value: outcome.detail };
      case 'retry':
        return {
          verdict: 'retry',
          value: outcome.detail,
          ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
        };
    }
  };
  const tried = await retrying(policy, once, request.signal ? { signal: request.signal } : {});
  if (tried.kind === 'final') return tried.value;
  if (tried.kind === 'cancelled') return fail({ reason: 'cancelled', url, message: 'cancelled' });
  return fail({
    reason: 'gave-up',
    url,
    message: `${request.path}: ${policy.maxAttempts} attempts failed; last: ${tried.value}`,
  });
}

export interface HubFileMetadata {
  /** Bytes the download will bring (`X-Linked-Size`, else `Content-Length`). */
  bytes: number | undefined;
  commit: string | undefined;
}

export interface HubMetadataFailure {
  reason: 'unauthorized' | 'not-found' | 'unreachable';
  url: string;
  message: string;
}

/**
 * What the hub says of one file, without downloading it: a HEAD of its resolve URL, as
 * huggingface_hub's `get_hf_file_metadata` does, redirects on the hub followed with the token
 * and the CDN's asked without it. Proves the file exists and the token may read it.
 */
export async function hubFileMetadata(
  request: Pick<HubFileRequest, 'endpoint' | 'repo' | 'repoType' | 'revision' | 'path' | 'token'>,
  timeoutMs = 30_000,
): Promise<Result<HubFileMetadata, HubMetadataFailure>> {
  const url = hubResolveUrl(
    request.endpoint,
    request.repo,
    request.revision,
    request.path,
    request.repoType,
  );
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  try {
    const opened = await openContent(url, headers, AbortSignal.timeout(timeoutMs), 'HEAD');
    const { status } = opened.response;
    const code = opened.response.headers.get('x-error-code');
    const detail = `HTTP ${status}${code ? ` ${code}` : ''}`;
    if (status === 401 || status === 403) {
      const hint = request.token ? 'HF_TOKEN has no access' : 'set HF_TOKEN to a token with access';
      return fail({ reason: 'unauthorized', url, message: `${detail}: ${hint}` });
    }
    if (status === 404) return fail({ reason: 'not-found', url, message: detail });
    if (status < 200 || status >= 400) return fail({ reason: 'unreachable', url, message: detail });
    const length = opened.response.headers.get('content-length');
    return ok({
      bytes: opened.linkedSize ?? (length ? Number(length) : undefined),
      commit: opened.commit,
    });
  } catch (error: unknown) {
    const message = error instanceof Error ? String(error.cause ?? error.message) : String(error);
    return fail({ reason: 'unreachable', url, message });
  }
}

type TransferOutcome =
  | { kind: 'complete'; resumed: boolean; detail: string; digest?: HubDigest }
  | { kind: 'retry'; resumed: boolean; detail: string; retryAfterMs?: number }
  | { kind: 'restart'; resumed: boolean; detail: string }
  | {
      kind: 'fatal';
      resumed: boolean;
      reason: 'unauthorized' | 'not-found' | 'cancelled';
      detail: string;
    };

async function attemptTransfer(
  url: string,
  part: string,
  have: number,
  request: HubFileRequest,
  policy: HubRetryPolicy,
): Promise<TransferOutcome> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const headers: Record<string, string> = {};
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (have > 0) headers.range = `bytes=${have}-`;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => controller.abort(new Error('stalled')), policy.stallTimeoutMs);
  };
  try {
    armStall();
    const opened = await openContent(url, headers, controller.signal);
    const response = opened.response;
    const status = response.status;
    if (status === 401 || status === 403) {
      await response.body?.cancel();
      const hint = request.token
        ? `the token was refused; accept the ${repoKind(request)} terms on the hub and check HF_TOKEN`
        : `the ${repoKind(request)} is gated or private: set HF_TOKEN to a token with access`;
      const code = response.headers.get('x-error-code');
      return {
        kind: 'fatal',
        resumed: false,
        reason: 'unauthorized',
        detail: `HTTP ${status}${code ? ` ${code}` : ''}: ${hint}`,
      };
    }
    if (status === 404) {
      await response.body?.cancel();
      return { kind: 'fatal', resumed: false, reason: 'not-found', detail: `HTTP 404 for ${url}` };
    }
    if (status === 416) {
      await response.body?.cancel();
      return {
        kind: 'restart',
        resumed: false,
        detail: 'HTTP 416: partial file no longer matches',
      };
    }
    if (status === 429 || status >= 500) {
      await response.body?.cancel();
      return {
        kind: 'retry',
        resumed: false,
        detail: `HTTP ${status}`,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      };
    }
    if (status !== 200 && status !== 206) {
      await response.body?.cancel();
      return { kind: 'retry', resumed: false, detail: `unexpected HTTP ${status}` };
    }
    const resumed = status === 206;
    if (resumed) {
      const start = Number(/bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1]);
      if (start !== have) {
        await response.body?.cancel();
        return {
          kind: 'restart',
          resumed,
          detail: `Content-Range starts at ${start}, not ${have}`,
        };
      }
    }
    // A 200 after a Range request means the server sends the whole file again: overwrite.
    const expectedTotal = expectedSize(response, resumed ? have : 0);
    if (!response.body) return { kind: 'retry', resumed, detail: 'response without a body' };
    // Each chunk is on disk before the next is read, so a transfer that breaks leaves every
    // byte it received in the .part file for the next attempt to resume from.
    const handle = await open(part, resumed ? 'a' : 'w');
    let received = resumed ? have : 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        armStall();
        await handle.write(chunk);
        received += chunk.length;
        request.onProgress?.(received, opened.linkedSize ?? expectedTotal);
      }
    } finally {
      await handle.close();
    }
    const size = (await fileSize(part)) ?? 0;
    if (expectedTotal !== undefined && size !== expectedTotal) {
      return { kind: 'retry', resumed, detail: `got ${size} of ${expectedTotal} bytes` };
    }
    if (opened.linkedSize !== undefined && size !== opened.linkedSize) {
      return {
        kind: 'restart',
        resumed,
        detail: `got ${size} bytes, the hub says ${opened.linkedSize}`,
      };
    }
    return { kind: 'complete', resumed, detail: `${size} bytes`, digest: opened.digest };
  } catch (error: unknown) {
    if (request.signal?.aborted) {
      return { kind: 'fatal', resumed: false, reason: 'cancelled', detail: 'cancelled' };
    }
    const message = error instanceof Error ? (error.cause ?? error.message) : error;
    return { kind: 'retry', resumed: have > 0, detail: `transfer broke: ${String(message)}` };
  } finally {
    clearTimeout(stallTimer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}

function expectedSize(response: Response, offset: number): number | undefined {
  const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
  if (total) return Number(total);
  const length = response.headers.get('content-length');
  return length ? offset + Number(length) : undefined;
}

interface OpenedContent {
  response: Response;
  /** The commit the hub resolved the revision to (`X-Repo-Commit`). */
  commit?: string;
  /** What the hub says the content hashes to; absent when it says nothing checkable. */
  digest?: HubDigest;
  linkedSize?: number;
}

/** An LFS file's SHA-256 (`X-Linked-Etag`), or a small file's git blob id (its `ETag`). */
interface HubDigest {
  kind: 'sha256' | 'git-sha1';
  hex: string;
}

/** Redirects followed before giving up: a renamed repo, then the CDN, then its own. */
const MAX_REDIRECTS = 5;

/**
 * Asks the resolve URL without following redirects blindly, as huggingface_hub does: redirects
 * on the hub's own origin (a renamed repository, a small file's cached copy) are followed with
 * the token; an LFS file answers 302 with the object's SHA-256 (`X-Linked-Etag`) and size
 * (`X-Linked-Size`) and a Location on its CDN, which is fetched without the token (its URL is
 * signed). A small file is answered by the hub itself, its `ETag` the git blob id.
 */
async function openContent(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  method: 'GET' | 'HEAD' = 'GET',
): Promise<OpenedContent> {
  const hubOrigin = new URL(url).origin;
  const { authorization, ...withoutToken } = headers;
  let target = new URL(url);
  let digest: HubDigest | undefined;
  let linkedSize: number | undefined;
  let commit: string | undefined;
  for (let hop = 0; ; hop++) {
    const onHub = target.origin === hubOrigin;
    const response = await fetch(target, {
      method,
      headers: onHub && authorization ? headers : withoutToken,
      signal,
      redirect: 'manual',
    });
    if (onHub) commit = response.headers.get('x-repo-commit') ?? commit;
    const linkedEtag = bareEtag(response.headers.get('x-linked-etag'));
    if (linkedEtag && /^[0-9a-f]{64}$/.test(linkedEtag))
      digest = { kind: 'sha256', hex: linkedEtag };
    const size = response.headers.get('x-linked-size');
    if (size && /^\d+$/.test(size)) linkedSize = Number(size);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location || hop >= MAX_REDIRECTS) {
      // Only the hub's own ETag names the content; a CDN's is its storage's business.
      const etag = bareEtag(response.headers.get('etag'));
      if (!digest && onHub && etag && /^[0-9a-f]{40}$/.test(etag)) {
        digest = { kind: 'git-sha1', hex: etag };
      }
      return { response, digest, linkedSize, commit };
    }
    const next = new URL(location, target);
    // A HEAD learns all it needs from the hub's redirect; the CDN is not asked.
    if (method === 'HEAD' && next.origin !== hubOrigin)
      return { response, digest, linkedSize, commit };
    await response.body?.cancel();
    target = next;
  }
}

function bareEtag(value: string | null): string | undefined {
  return value?.replace(/^W\//, '').replace(/"/g, '') || undefined;
}

function repoKind(request: HubFileRequest): string {
  return request.repoType === 'model' ? 'model' : 'dataset';
}

async function verifyChecksum(file: string, digest: HubDigest | undefined): Promise<boolean> {
  if (!digest) return true;
  const hash = createHash(digest.kind === 'sha256' ? 'sha256' : 'sha1');
  // Git names a blob by the SHA-1 of a `blob <size>\0` header and the content.
  if (digest.kind === 'git-sha1') hash.update(`blob ${(await stat(file)).size}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex') === digest.hex;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
