import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/**
 * A local server speaking the parts of the Hugging Face hub protocol the reader uses: the
 * revision API (`/api/datasets/<repo>/revision/<rev>` -> `{ sha }`) and file resolution
 * (`/datasets/<repo>/resolve/<rev>/<path>`), which for LFS files answers 302 with the object's
 * SHA-256 and size (`X-Linked-Etag`, `X-Linked-Size`) and a Location on a second origin, the
 * CDN, which answers Range requests with 206 and refuses a bearer token, as a signed URL does;
 * and the tree API (`/api/datasets/<repo>/tree/<rev>/<path>?recursive=true`), which lists files
 * with their sizes (`lfs.size` for LFS files) in pages named by a `Link: <...>; rel="next"`
 * header, as huggingface_hub's list_repo_tree reads it. Faults are injected per path; a
 * per-transfer bandwidth limit models a CDN connection's throughput.
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
  /** Entries per tree page (the hub: 1,000). */
  treePageSize?: number;
  /** Cap on each content transfer's throughput, bytes per second; unlimited when absent. */
  bytesPerSecond?: number;
  /** Answer the tree API with this status instead (an index that is not reachable). */
  treeStatus?: number;
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
  /** Most content transfers that were in flight at one moment. */
  maxConcurrentTransfers(): number;
  close(): Promise<void>;
}

export async function startHubTestServer(options: HubTestServerOptions): Promise<HubTestServer> {
  const requests: HubRequestLog[] = [];
  const faults = new Map(Object.entries(options.faults ?? {}).map(([k, v]) => [k, [...v]]));
  const blobs = new Map<string, string>(); // sha256 -> repository path
  let cdnOrigin = '';
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
    const auth = req.headers.authorization;
    if (!auth) return send(401, 'Access to this dataset is restricted.');
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
    const treePrefix = `/api/datasets/${options.repo}/tree/`;
    if (url.pathname.startsWith(treePrefix)) {
      if (options.treeStatus) return send(options.treeStatus, 'injected failure');
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
