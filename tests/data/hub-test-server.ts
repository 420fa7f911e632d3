import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { type HubUploads, handleUpload } from './hub-commit-routes.ts';

/**
 * A local server speaking the parts of the Hugging Face hub protocol our clients use: the
 * revision API (`/api/<datasets|models>/<repo>/revision/<rev>` -> `{ sha, siblings }`) and file
 * resolution (`[/datasets]/<repo>/resolve/<rev>/<path>`), which for LFS files answers 302 with
 * the object's SHA-256 and size (`X-Linked-Etag`, `X-Linked-Size`) and a Location on a second
 * origin, the CDN, which answers Range requests with 206 and refuses a bearer token, as a
 * signed URL does. Small (non-LFS) files are answered by the hub itself, their `ETag` the git
 * blob id: a public namespaced repo's through a 307 to `/api/resolve-cache/...` pinned to the
 * commit, a gated or canonical (namespace-less) repo's directly. A renamed repository's old id answers 307 to the new one on the same origin, and
 * errors carry the hub's `X-Error-Code` (GatedRepo, RepoNotFound, RevisionNotFound,
 * EntryNotFound). Faults are injected per path.
 * The tree API (`/api/datasets/<repo>/tree/<rev>/<path>?recursive=true`) lists files with
 * their sizes (`lfs.size` for LFS files) in pages named by a `Link: <...>; rel="next"` header,
 * as huggingface_hub's list_repo_tree reads it; a per-transfer bandwidth limit models a CDN
 * connection's throughput.
 */
export interface HubTestServerOptions {
  repo: string;
  /** Defaults to `dataset`. */
  repoType?: 'dataset' | 'model';
  /**
   * Gated (the default): files need the token, 401 without one, 403 with a wrong one. A gated
   * model's metadata (the revision API) stays public, as on the hub; a dataset's does not.
   */
  gated?: boolean;
  /** Old ids of the repository, answered with a 307 to the same path under `repo`. */
  renamedFrom?: string[];
  /** Paths stored in git rather than LFS: served by the hub, no redirect. */
  smallFiles?: string[];
  commit: string;
  /** Branch names the revision API resolves to `commit`. */
  branches: string[];
  /** Folder holding the files, addressed by their repository path. */
  root: string;
  /** Required bearer token; requests without it get 401, with a wrong one 403. */
  token: string;
  faults?: Record<string, Fault[]>;
  /** Public model repositories (repo -> commit) the model revision API serves, without a token. */
  models?: Record<string, string>;
  /** Valid tokens whose owner has not been granted the gated dataset: file requests get 403 GatedRepo. */
  ungrantedTokens?: string[];
  /** Entries per tree page (the hub: 1,000). */
  treePageSize?: number;
  /** Cap on each content transfer's throughput, bytes per second; unlimited when absent. */
  bytesPerSecond?: number;
  /** Answer the tree API with this status instead (an index that is not reachable). */
  treeStatus?: number;
  /** Accept pushes to `repo` (hub-commit-routes.ts): what they committed is kept here. */
  uploads?: HubUploads;
}

/** Applied to successive content requests of one path, one fault per request. */
export type Fault =
  | { type: 'drop-after'; bytes: number }
  | { type: 'status'; status: number; retryAfter?: string }
  | { type: 'ignore-range' }
  | { type: 'corrupt' }
  /** The body is cut short yet served as complete (its Content-Length matches the cut). */
  | { type: 'short' };

export interface HubRequestLog {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
  status: number;
}

export interface HubTestServer {
  endpoint: string;
  requests: HubRequestLog[];
  /** Most content transfers that were in flight at one moment. */
  maxConcurrentTransfers(): number;
  close(): Promise<void>;
}

export async function startHubTestServer(options: HubTestServerOptions): Promise<HubTestServer> {
  const requests: HubRequestLog[] = [];
  const faults = new Map(Object.entries(options.faults ?? {}).map(([k, v]) => [k, [...v]]));
  const blobs = new Map<string, string>(); // sha256 -> repository path
  let cdnOrigin = '';
  let hubOrigin = '';
  let inFlight = 0;
  let maxInFlight = 0;
  const transfer = {
    start: () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
    },
    end: () => {
      inFlight--;
    },
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const log: HubRequestLog = {
      method: req.method ?? 'GET',
      url: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
    };
    requests.push(log);
    const send = (status: number, body?: string, headers: Record<string, string> = {}) => {
      log.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (
      options.uploads &&
      handleUpload(
        options.uploads,
        { repo: options.repo, token: options.token, origin: hubOrigin, uploadOrigin: cdnOrigin },
        req,
        url,
        send,
      )
    ) {
      return;
    }
    if (url.pathname.startsWith('/cdn/')) {
      // Like a signed CDN URL: a second credential is an error, not a courtesy.
      if (req.headers.authorization) return send(400, 'Only one auth mechanism allowed');
      const sha = url.pathname.slice('/cdn/'.length);
      const path = blobs.get(sha);
      const bytes = path ? readRepoFile(options.root, path) : undefined;
      if (!path || !bytes) return send(404, 'No such blob');
      const fault = faults.get(path)?.shift();
      transfer.start();
      res.on('close', transfer.end);
      serveContent(req, res, bytes, sha, fault, log, options.bytesPerSecond);
      return;
    }
    const modelRevision = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (modelRevision && options.models && modelRevision[1] !== options.repo) {
      // As the hub does for a repository that does not exist (or is private): 401 RepoNotFound.
      const commit = options.models[modelRevision[1] as string];
      if (!commit) return send(401, 'Repository not found', { 'x-error-code': 'RepoNotFound' });
      const revision = decodeURIComponent(modelRevision[2] as string);
      if (revision !== 'main' && revision !== commit) {
        return send(404, 'Revision not found', { 'x-error-code': 'RevisionNotFound' });
      }
      return send(200, JSON.stringify({ id: modelRevision[1], sha: commit }), {
        'content-type': 'application/json',
      });
    }
    const repoType = options.repoType ?? 'dataset';
    const gated = options.gated ?? true;
    const plural = `${repoType}s`;
    const repoPath = repoType === 'dataset' ? `/datasets/` : '/';
    const auth = req.headers.authorization;
    const ungranted = options.ungrantedTokens?.some((t) => auth === `Bearer ${t}`) === true;
    const refuse = (): boolean => {
      if (!auth) {
        send(401, `Access to ${repoType} ${options.repo} is restricted.`, {
          'x-error-code': 'GatedRepo',
        });
        return true;
      }
      if (ungranted) {
        send(
          403,
          `Access to ${repoType} ${options.repo} is restricted and you are not in the authorized list.`,
          { 'x-error-code': 'GatedRepo' },
        );
        return true;
      }
      if (auth !== `Bearer ${options.token}`) {
        send(403, 'Invalid credentials.', { 'x-error-code': 'GatedRepo' });
        return true;
      }
      return false;
    };
    for (const old of options.renamedFrom ?? []) {
      for (const prefix of [`/api/${plural}/${old}/`, `${repoPath}${old}/resolve/`]) {
        if (url.pathname.startsWith(prefix)) {
          const moved = prefix.replace(old, options.repo) + url.pathname.slice(prefix.length);
          return send(307, undefined, { location: moved });
        }
      }
    }
    const known = (revision: string) =>
      revision === options.commit || options.branches.includes(revision);
    const prefix = `/api/${plural}/${options.repo}/revision/`;
    if (url.pathname.startsWith(prefix)) {
      // Dataset metadata is gated with the files; a gated model's card and file list are public.
      // Metadata of a gated dataset is visible to any signed-in user, granted or not.
      if (repoType === 'dataset' && gated && !ungranted && refuse()) return;
      if (repoType === 'model' && auth && auth !== `Bearer ${options.token}`) {
        return send(401, 'Invalid credentials in Authorization header', {
          'x-error-message': 'Invalid credentials in Authorization header',
        });
      }
      const revision = decodeURIComponent(url.pathname.slice(prefix.length));
      if (!known(revision)) {
        return send(404, JSON.stringify({ error: 'Revision not found' }), {
          'x-error-code': 'RevisionNotFound',
        });
      }
      const siblings = listRepoFiles(options.root).map((rfilename) => ({ rfilename }));
      return send(
        200,
        JSON.stringify({
          id: options.repo,
          sha: options.commit,
          gated: gated ? 'manual' : false,
          siblings,
        }),
        { 'content-type': 'application/json' },
      );
    }
    const treePrefix = `/api/datasets/${options.repo}/tree/`;
    if (url.pathname.startsWith(treePrefix)) {
      if (options.treeStatus) return send(options.treeStatus, 'injected failure');
      if (gated && refuse()) return;
      // huggingface_hub quotes the revision and the path each as one segment (slashes too).
      const [rawRevision = '', ...rest] = url.pathname.slice(treePrefix.length).split('/');
      const revision = decodeURIComponent(rawRevision);
      const folder = rest.map(decodeURIComponent).join('/');
      if (revision !== options.commit && !options.branches.includes(revision)) {
        return send(404, JSON.stringify({ error: 'Invalid rev id' }));
      }
      const entries = treeEntries(
        options.root,
        folder,
        url.searchParams.get('recursive') === 'true',
      );
      if (!entries) return send(404, JSON.stringify({ error: `${folder} does not exist` }));
      const pageSize = options.treePageSize ?? 1000;
      const cursor = Number(url.searchParams.get('cursor') ?? '0');
      const page = entries.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + pageSize < entries.length) {
        const next = new URL(
          url.href.replace('http://localhost', ''),
          `http://${req.headers.host}`,
        );
        next.searchParams.set('cursor', String(cursor + pageSize));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return send(200, JSON.stringify(page), headers);
    }
    const resolveCachePrefix = `/api/resolve-cache/${plural}/${options.repo}/`;
    if (url.pathname.startsWith(`${resolveCachePrefix}${options.commit}/`)) {
      const path = url.pathname
        .slice(resolveCachePrefix.length + options.commit.length + 1)
        .split('/')
        .map(decodeURIComponent)
        .join('/');
      const bytes = options.smallFiles?.includes(path)
        ? readRepoFile(options.root, path)
        : undefined;
      if (!bytes) return send(404, 'Entry not found', { 'x-error-code': 'EntryNotFound' });
      const fault = faults.get(path)?.shift();
      serveContent(req, res, bytes, gitBlobId(bytes), fault, log, options.bytesPerSecond, {
        'x-repo-commit': options.commit,
      });
      return;
    }
    const resolvePrefix = `${repoPath}${options.repo}/resolve/`;
    if (url.pathname.startsWith(resolvePrefix)) {
      if (gated && refuse()) return;
      const rest = url.pathname.slice(resolvePrefix.length);
      const slash = rest.indexOf('/');
      const revision = decodeURIComponent(rest.slice(0, slash));
      const path = rest
        .slice(slash + 1)
        .split('/')
        .map(decodeURIComponent)
        .join('/');
      if (!known(revision)) {
        return send(404, 'Revision not found', { 'x-error-code': 'RevisionNotFound' });
      }
      const bytes = readRepoFile(options.root, path);
      if (!bytes) return send(404, 'Entry not found', { 'x-error-code': 'EntryNotFound' });
      if (options.smallFiles?.includes(path)) {
        const blob = gitBlobId(bytes);
        if (!gated && options.repo.includes('/')) {
          // A public repo's small file is sent to its commit-pinned cached copy on the hub.
          const encoded = path.split('/').map(encodeURIComponent).join('/');
          return send(307, undefined, {
            location: `${resolveCachePrefix}${options.commit}/${encoded}?etag=%22${blob}%22`,
            etag: `"${blob}"`,
            'x-repo-commit': options.commit,
          });
        }
        const fault = faults.get(path)?.shift();
        serveContent(req, res, bytes, blob, fault, log, options.bytesPerSecond, {
          'x-repo-commit': options.commit,
        });
        return;
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      blobs.set(sha, path);
      return send(302, undefined, {
        location: `${cdnOrigin}/cdn/${sha}`,
        'x-repo-commit': options.commit,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(bytes.length),
      });
    }
    send(404, 'Repository not found', { 'x-error-code': 'RepoNotFound' });
  };
  // The hub and its CDN on two origins, so a client that forwards the token is caught.
  const hub = await listen(createServer(handler));
  const cdn = await listen(createServer(handler));
  cdnOrigin = cdn.origin;
  hubOrigin = hub.origin;
  return {
    endpoint: hub.origin,
    requests,
    maxConcurrentTransfers: () => maxInFlight,
    close: async () => {
      await hub.close();
      await cdn.close();
    },
  };
}

function serveContent(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Buffer,
  sha: string,
  fault: Fault | undefined,
  log: HubRequestLog,
  bytesPerSecond: number | undefined,
  extraHeaders: Record<string, string> = {},
): void {
  if (fault?.type === 'status') {
    log.status = fault.status;
    res.writeHead(
      fault.status,
      fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
    );
    res.end('injected failure');
    return;
  }
  const range =
    fault?.type === 'ignore-range' ? undefined : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (start > bytes.length) {
    log.status = 416;
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
    res.end();
    return;
  }
  let body = bytes.subarray(start);
  if (fault?.type === 'corrupt') body = Buffer.from(body).fill(0x41, 0, Math.min(64, body.length));
  if (fault?.type === 'short') body = body.subarray(0, Math.floor(body.length / 2));
  const headers: Record<string, string> = {
    ...extraHeaders,
    etag: `"${sha}"`,
    'accept-ranges': 'bytes',
    'content-length': String(body.length),
  };
  if (range && fault?.type !== 'short') {
    headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
  }
  log.status = range ? 206 : 200;
  res.writeHead(log.status, headers);
  if (fault?.type === 'drop-after') {
    // Send part of the body, then cut the connection as a flaky network would. The pause lets
    // the client consume what was sent (bytes still queued in the client when the error lands
    // are discarded by fetch, which would make the resume offset vary from run to run).
    res.write(body.subarray(0, fault.bytes), () => {
      setTimeout(() => res.socket?.destroy(), 300);
    });
    return;
  }
  if (bytesPerSecond !== undefined) {
    paced(res, body, bytesPerSecond);
    return;
  }
  res.end(body);
}

/** Writes the body in 20 ms slices at the given rate, as a throughput-capped connection would. */
function paced(res: ServerResponse, body: Buffer, bytesPerSecond: number): void {
  const slice = Math.max(1, Math.round(bytesPerSecond / 50));
  let offset = 0;
  const step = () => {
    if (res.destroyed) return;
    const end = Math.min(body.length, offset + slice);
    res.write(body.subarray(offset, end));
    offset = end;
    if (offset >= body.length) res.end();
    else setTimeout(step, 20);
  };
  step();
}

interface TreeEntry {
  type: 'file' | 'directory';
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

/** The hub's listing: files and folders under `folder`, in path order; LFS for the tar shards. */
function treeEntries(root: string, folder: string, recursive: boolean): TreeEntry[] | undefined {
  if (folder.includes('..')) return undefined;
  const base = join(root, folder);
  try {
    if (!statSync(base).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const entries: TreeEntry[] = [];
  const walk = (dir: string) => {
    for (const item of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const full = join(dir, item.name);
      const path = relative(root, full).split('\\').join('/');
      if (item.isDirectory()) {
        entries.push({ type: 'directory', oid: gitOid(Buffer.from(path)), size: 0, path });
        if (recursive) walk(full);
      } else if (item.isFile()) {
        const bytes = readFileSync(full);
        const entry: TreeEntry = { type: 'file', oid: gitOid(bytes), size: bytes.length, path };
        if (path.endsWith('.tar')) {
          // An LFS file: `size` is the pointer's, `lfs.size` the content's.
          const sha = createHash('sha256').update(bytes).digest('hex');
          entries.push({
            ...entry,
            size: 134,
            lfs: { oid: sha, size: bytes.length, pointerSize: 134 },
          });
        } else {
          entries.push(entry);
        }
      }
    }
  };
  walk(base);
  return entries;
}

function gitOid(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

async function listen(server: Server): Promise<{ origin: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readRepoFile(root: string, path: string): Buffer | undefined {
  if (path.includes('..')) return undefined;
  try {
    return readFileSync(join(root, path));
  } catch {
    return undefined;
  }
}

/** Git's object id of a file's content: SHA-1 over `blob <size>\0` and the bytes. */
function gitBlobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function listRepoFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}
