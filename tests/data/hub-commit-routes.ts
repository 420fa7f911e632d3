import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The hub's upload protocol for the hub test server (hub-test-server.ts, option `uploads`), as
 * huggingface_hub and @huggingface/hub speak it: `POST /api/models/<repo>/preupload/<rev>`
 * (which files go to LFS), the Git LFS batch API `POST /<repo>.git/info/lfs/objects/batch`
 * (an upload action only for objects the hub lacks, which is what makes a push resumable), the
 * `PUT` of each object to the action's href (on the CDN origin, signed: no token), and `POST /api/models/<repo>/commit/<rev>` with
 * NDJSON lines (a header, then `file` and `lfsFile` operations). The hub's own routes need the token.
 */
export interface HubUploads {
  /** Committed repository content: path to bytes. */
  files: Map<string, Buffer>;
  /** LFS objects received, by SHA-256. */
  lfsObjects: Map<string, Buffer>;
  commits: { summary: string; paths: string[] }[];
  /** Answer the next N commit requests with 500 (a push cut before its commit). */
  failCommits: number;
  /** Files the preupload answers `lfs` for: any path ending with one of these. */
  lfsSuffixes: string[];
}

export function hubUploads(): HubUploads {
  return {
    files: new Map(),
    lfsObjects: new Map(),
    commits: [],
    failCommits: 0,
    lfsSuffixes: ['.safetensors'],
  };
}

type Send = (status: number, body?: string, headers?: Record<string, string>) => void;

/**
 * Handles an upload route of `repo` and returns true, or returns false for any other path. The
 * answer may come after the body has been read.
 */
export function handleUpload(
  uploads: HubUploads,
  hub: { repo: string; token: string; origin: string; uploadOrigin: string },
  req: IncomingMessage,
  url: URL,
  send: Send,
): boolean {
  const { repo, token, origin } = hub;
  const preupload = url.pathname === `/api/models/${repo}/preupload/main`;
  const batch = url.pathname === `/${repo}.git/info/lfs/objects/batch`;
  const object = /^\/lfs-upload\/([0-9a-f]{64})$/.exec(url.pathname);
  const commit = url.pathname === `/api/models/${repo}/commit/main`;
  if (!preupload && !batch && !object && !commit) return false;
  if (object && req.headers.authorization) {
    // Like the hub's signed upload URLs: a second credential is an error, and a leaked token.
    send(400, 'Only one auth mechanism allowed');
    return true;
  }
  if (!object && req.headers.authorization !== `Bearer ${token}`) {
    send(401, 'Invalid credentials', { 'x-error-code': 'Unauthorized' });
    return true;
  }
  readBody(req).then((body) => {
    if (preupload) {
      const { files } = JSON.parse(body.toString()) as { files: { path: string }[] };
      const answer = files.map((f) => ({
        path: f.path,
        uploadMode: uploads.lfsSuffixes.some((s) => f.path.endsWith(s)) ? 'lfs' : 'regular',
      }));
      return send(200, JSON.stringify({ files: answer }), { 'content-type': 'application/json' });
    }
    if (batch) {
      const request = JSON.parse(body.toString()) as { objects: { oid: string; size: number }[] };
      const objects = request.objects.map(({ oid, size }) =>
        uploads.lfsObjects.has(oid)
          ? { oid, size }
          : { oid, size, actions: { upload: { href: `${hub.uploadOrigin}/lfs-upload/${oid}` } } },
      );
      return send(200, JSON.stringify({ transfer: 'basic', objects }), {
        'content-type': 'application/vnd.git-lfs+json',
      });
    }
    if (object) {
      const oid = object[1] as string;
      if (createHash('sha256').update(body).digest('hex') !== oid) {
        return send(400, 'Object does not match its oid');
      }
      uploads.lfsObjects.set(oid, body);
      return send(200);
    }
    if (uploads.failCommits > 0) {
      uploads.failCommits--;
      return send(500, 'Internal Error');
    }
    const lines = body
      .toString()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, string> });
    const header = lines.find((l) => l.key === 'header');
    if (!header) return send(400, 'No commit header');
    const staged = new Map<string, Buffer>();
    for (const { key, value } of lines) {
      if (key === 'file') {
        staged.set(value.path as string, Buffer.from(value.content as string, 'base64'));
      } else if (key === 'lfsFile') {
        const bytes = uploads.lfsObjects.get(value.oid as string);
        if (!bytes) return send(400, `LFS object ${value.oid} was never uploaded`);
        staged.set(value.path as string, bytes);
      }
    }
    for (const [path, bytes] of staged) uploads.files.set(path, bytes);
    uploads.commits.push({ summary: header.value.summary as string, paths: [...staged.keys()] });
    const commitOid = createHash('sha1').update(String(uploads.commits.length)).digest('hex');
    return send(
      200,
      JSON.stringify({ commitOid, commitUrl: `${origin}/${repo}/commit/${commitOid}` }),
      {
        'content-type': 'application/json',
      },
    );
  });
  return true;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
