import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A local server speaking the parts of the Hugging Face hub protocol the reader uses: the
 * revision API (`/api/datasets/<repo>/revision/<rev>` -> `{ sha }`) and file resolution
 * (`/datasets/<repo>/resolve/<rev>/<path>`), which for LFS files answers 302 with the object's
 * SHA-256 and size (`X-Linked-Etag`, `X-Linked-Size`) and a Location on a second origin, the
 * CDN, which answers Range requests with 206 and refuses a bearer token, as a signed URL does.
 * Faults are injected per path.
 */
export interface HubTestServerOptions {
  repo: string;
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
}

/** Applied to successive content requests of one path, one fault per request. */
export type Fault =
  | { type: 'drop-after'; bytes: number }
  | { type: 'status'; status: number; retryAfter?: string }
  | { type: 'ignore-range' }
  | { type: 'corrupt' };

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
  close(): Promise<void>;
}

export async function startHubTestServer(options: HubTestServerOptions): Promise<HubTestServer> {
  const requests: HubRequestLog[] = [];
  const faults = new Map(Object.entries(options.faults ?? {}).map(([k, v]) => [k, [...v]]));
  const blobs = new Map<string, string>(); // sha256 -> repository path
  let cdnOrigin = '';
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
    if (url.pathname.startsWith('/cdn/')) {
      // Like a signed CDN URL: a second credential is an error, not a courtesy.
      if (req.headers.authorization) return send(400, 'Only one auth mechanism allowed');
      const sha = url.pathname.slice('/cdn/'.length);
      const path = blobs.get(sha);
      const bytes = path ? readRepoFile(options.root, path) : undefined;
      if (!path || !bytes) return send(404, 'No such blob');
      const fault = faults.get(path)?.shift();
      serveContent(req, res, bytes, sha, fault, log);
      return;
    }
    const modelRevision = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (modelRevision) {
      // As the hub does for a repository that does not exist (or is private): 401 RepoNotFound.
      const commit = options.models?.[modelRevision[1] as string];
      if (!commit) return send(401, 'Repository not found', { 'x-error-code': 'RepoNotFound' });
      const revision = decodeURIComponent(modelRevision[2] as string);
      if (revision !== 'main' && revision !== commit) {
        return send(404, 'Revision not found', { 'x-error-code': 'RevisionNotFound' });
      }
      return send(200, JSON.stringify({ id: modelRevision[1], sha: commit }), {
        'content-type': 'application/json',
      });
    }
    const auth = req.headers.authorization;
    if (!auth) return send(401, 'Access to this dataset is restricted.');
    const ungranted = options.ungrantedTokens?.some((t) => auth === `Bearer ${t}`);
    if (ungranted && url.pathname.startsWith(`/datasets/${options.repo}/resolve/`)) {
      return send(
        403,
        'Access to this dataset is restricted and you are not in the authorized list.',
        {
          'x-error-code': 'GatedRepo',
        },
      );
    }
    if (ungranted && url.pathname.startsWith(`/api/datasets/${options.repo}/revision/`)) {
      // Metadata of a gated repository is visible to any signed-in user.
      return send(200, JSON.stringify({ id: options.repo, sha: options.commit }), {
        'content-type': 'application/json',
      });
    }
    if (auth !== `Bearer ${options.token}`) return send(403, 'Invalid credentials.');
    const prefix = `/api/datasets/${options.repo}/revision/`;
    if (url.pathname.startsWith(prefix)) {
      const revision = decodeURIComponent(url.pathname.slice(prefix.length));
      if (revision !== options.commit && !options.branches.includes(revision)) {
        return send(404, JSON.stringify({ error: 'Revision not found' }));
      }
      return send(200, JSON.stringify({ id: options.repo, sha: options.commit }), {
        'content-type': 'application/json',
      });
    }
    const resolvePrefix = `/datasets/${options.repo}/resolve/`;
    if (url.pathname.startsWith(resolvePrefix)) {
      const rest = url.pathname.slice(resolvePrefix.length);
      const slash = rest.indexOf('/');
      const revision = decodeURIComponent(rest.slice(0, slash));
      const path = rest
        .slice(slash + 1)
        .split('/')
        .map(decodeURIComponent)
        .join('/');
      if (revision !== options.commit && !options.branches.includes(revision)) {
        return send(404, 'Revision not found');
      }
      const bytes = readRepoFile(options.root, path);
      if (!bytes) return send(404, 'Entry not found');
      const sha = createHash('sha256').update(bytes).digest('hex');
      blobs.set(sha, path);
      return send(302, undefined, {
        location: `${cdnOrigin}/cdn/${sha}`,
        'x-repo-commit': options.commit,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(bytes.length),
      });
    }
    send(404, 'Not found');
  };
  // The hub and its CDN on two origins, so a client that forwards the token is caught.
  const hub = await listen(createServer(handler));
  const cdn = await listen(createServer(handler));
  cdnOrigin = cdn.origin;
  return {
    endpoint: hub.origin,
    requests,
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
  const headers: Record<string, string> = {
    etag: `"${sha}"`,
    'accept-ranges': 'bytes',
    'content-length': String(body.length),
  };
  if (range) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
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
  res.end(body);
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
