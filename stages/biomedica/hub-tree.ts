import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * The hub's tree API, as huggingface_hub's `list_repo_tree` calls it:
 * `GET <endpoint>/api/datasets/<repo>/tree/<revision>/<path>?recursive=true&expand=false`
 * (revision and path each percent-encoded as one segment), answering a JSON array of
 * `{type: "file"|"directory", oid, size, path, lfs?: {oid, size, pointerSize}}`, at most 1,000
 * entries a page, the next page named by a GitHub-style `Link: <url>; rel="next"` header.
 */
export interface HubTreeRequest {
  endpoint: string;
  repo: string;
  /** A commit id: the listing is of that commit, so it is as pinned as the content. */
  revision: string;
  /** Folder inside the repository; empty for the root. */
  path: string;
  token?: string;
  signal?: AbortSignal;
}

export interface HubTreeFile {
  path: string;
  /** Bytes of the file's content (for LFS files the object's size, not the pointer's). */
  size: number;
}

export interface HubTreeFailure {
  reason: 'unauthorized' | 'not-found' | 'tree-unreachable';
  message: string;
}

/** The API answers in well under a second a page; a hang means the network is gone. */
const PAGE_TIMEOUT_MS = 30_000;
/** A runaway pagination (a server that always says "next") is a bug, not a big repository. */
const MAX_PAGES = 1_000;

export function hubTreeUrl(request: HubTreeRequest): string {
  const base = `${request.endpoint.replace(/\/+$/, '')}/api/datasets/${request.repo}/tree/${encodeURIComponent(request.revision)}`;
  const folder = request.path.replace(/^\/+|\/+$/g, '');
  return `${base}${folder ? `/${encodeURIComponent(folder)}` : ''}?recursive=true&expand=false`;
}

export async function listHubTree(
  request: HubTreeRequest,
): Promise<Result<HubTreeFile[], HubTreeFailure>> {
  const files: HubTreeFile[] = [];
  let url: string | undefined = hubTreeUrl(request);
  for (let page = 0; url !== undefined; page++) {
    if (page === MAX_PAGES) {
      return fail({ reason: 'tree-unreachable', message: `${url}: over ${MAX_PAGES} pages` });
    }
    const answer = await fetchPage(url, request);
    if (!answer.ok) return answer;
    for (const entry of answer.value.entries) {
      if (entry.type !== 'file' || typeof entry.path !== 'string') continue;
      const size = entry.lfs?.size ?? entry.size;
      if (typeof size !== 'number') {
        return fail({ reason: 'tree-unreachable', message: `${url}: ${entry.path} has no size` });
      }
      files.push({ path: entry.path, size });
    }
    url = answer.value.next;
  }
  return ok(files);
}

interface TreeEntry {
  type?: string;
  path?: unknown;
  size?: unknown;
  lfs?: { size?: number };
}

async function fetchPage(
  url: string,
  request: HubTreeRequest,
): Promise<Result<{ entries: TreeEntry[]; next?: string }, HubTreeFailure>> {
  try {
    const response = await fetch(url, {
      headers: request.token ? { authorization: `Bearer ${request.token}` } : {},
      signal: AbortSignal.any([
        ...(request.signal ? [request.signal] : []),
        AbortSignal.timeout(PAGE_TIMEOUT_MS),
      ]),
    });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return fail({
        reason: 'unauthorized',
        message: `${url}: HTTP ${response.status} (the dataset is gated: set HF_TOKEN to a token with access)`,
      });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return fail({
        reason: 'not-found',
        message: `${url}: HTTP 404 (no such repository, revision or folder)`,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      return fail({ reason: 'tree-unreachable', message: `${url}: HTTP ${response.status}` });
    }
    const body: unknown = await response.json();
    if (!Array.isArray(body)) {
      return fail({ reason: 'tree-unreachable', message: `${url}: the answer is not a list` });
    }
    const next = nextLink(response.headers.get('link'));
    return ok({ entries: body as TreeEntry[], next: next ? new URL(next, url).href : undefined });
  } catch (error: unknown) {
    return fail({
      reason: 'tree-unreachable',
      message: `${url}: ${error instanceof Error ? (error.cause ?? error.message) : String(error)}`,
    });
  }
}

/** `<https://...&cursor=abc>; rel="next"` -> the URL; absent on the last page. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (match) return match[1];
  }
  return undefined;
}
