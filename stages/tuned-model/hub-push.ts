import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * `export --push REPO`: the exported folder as one commit to a model repository, through the
 * hub's commit API as huggingface_hub uploads: `preupload` says which files go to LFS; the Git
 * LFS batch API returns an upload action only for objects the hub does not hold yet, so a push
 * cut short (or repeated) sends again only what is missing; each object is PUT to its action's
 * href; then one NDJSON commit names the small files' contents and the LFS files by oid.
 * The token (HF_TOKEN) goes in the Authorization header to the hub's own origin only (an
 * upload href on another origin is signed, as the CDN's are) and appears in no message.
 */
export interface PushRequest {
  dir: string;
  repo: string;
  endpoint: string;
  token: string;
  summary: string;
}

export interface Pushed {
  commitUrl: string;
  files: number;
  /** LFS objects sent by this push; the others the hub held already. */
  uploaded: number;
  reused: number;
}

/** A file of the folder, hashed as a stream: merged weights can be larger than memory. */
interface LocalFile {
  path: string;
  size: number;
  oid: string;
  /** Its first 512 bytes, which preupload asks for. */
  sample: Buffer;
}

export interface PushFailure {
  /** `refused`: the hub said no (4xx: the token, the repository); `failed`: anything else, worth a rerun. */
  reason: 'refused' | 'failed';
  message: string;
}

export async function pushFolder(request: PushRequest): Promise<Result<Pushed, PushFailure>> {
  const { endpoint, repo, token } = request;
  const hubOrigin = new URL(endpoint).origin;
  const call = async (
    url: string,
    init: { method: string; body?: string | ReadStream; headers?: Record<string, string> },
  ): Promise<Result<Response, PushFailure>> => {
    const sameOrigin = new URL(url).origin === hubOrigin;
    try {
      const response = await fetch(url, {
        method: init.method,
        ...(typeof init.body === 'string' && { body: init.body }),
        // A file is streamed, never held whole (fetch needs `duplex` for a streamed body).
        ...(typeof init.body === 'object' && {
          body: Readable.toWeb(init.body) as ReadableStream,
          duplex: 'half',
        }),
        headers: { ...init.headers, ...(sameOrigin && { authorization: `Bearer ${token}` }) },
      });
      if (response.ok) return ok(response);
      const text = (await response.text()).slice(0, 200);
      const what =
        response.status === 401 || response.status === 403 ? 'refused the token' : 'answered';
      return fail({
        reason: response.status < 500 ? 'refused' : 'failed',
        message: hidden(
          `${init.method} ${new URL(url).pathname}: the hub ${what} (${response.status} ${text.trim()})`,
          token,
        ),
      });
    } catch (error) {
      return fail({
        reason: 'failed',
        message: hidden(
          `${init.method} ${new URL(url).pathname}: ${(error as Error).message}`,
          token,
        ),
      });
    }
  };

  const files: LocalFile[] = [];
  for (const path of (await readdir(request.dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(request.dir.length + 1))
    .sort()) {
    files.push(await hashFile(request.dir, path));
  }

  const preupload = await call(`${endpoint}/api/models/${repo}/preupload/main`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      files: files.map((f) => ({
        path: f.path,
        size: f.size,
        sample: f.sample.toString('base64'),
      })),
    }),
  });
  if (!preupload.ok) return preupload;
  const modes = new Map(
    ((await preupload.value.json()) as { files: { path: string; uploadMode: string }[] }).files.map(
      (f) => [f.path, f.uploadMode],
    ),
  );
  const lfs = files.filter((f) => modes.get(f.path) === 'lfs');

  let uploaded = 0;
  if (lfs.length > 0) {
    const lfsHeaders = {
      accept: 'application/vnd.git-lfs+json',
      'content-type': 'application/vnd.git-lfs+json',
    };
    const batch = await call(`${endpoint}/${repo}.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: lfsHeaders,
      body: JSON.stringify({
        operation: 'upload',
        transfers: ['basic'],
        hash_algo: 'sha256',
        objects: lfs.map((f) => ({ oid: f.oid, size: f.size })),
      }),
    });
    if (!batch.ok) return batch;
    const { objects } = (await batch.value.json()) as {
      objects: {
        oid: string;
        actions?: Record<string, { href: string; header?: Record<string, string> }>;
        error?: { message: string };
      }[];
    };
    for (const object of objects) {
      if (object.error) {
        return fail({
          reason: 'refused',
          message: hidden(`LFS object ${object.oid}: ${object.error.message}`, token),
        });
      }
      const upload = object.actions?.upload;
      if (!upload) continue;
      const file = lfs.find((f) => f.oid === object.oid);
      if (!file) continue;
      const put = await call(upload.href, {
        method: 'PUT',
        body: createReadStream(join(request.dir, file.path)),
        // Object stores refuse a chunked PUT: the length goes ahead of the stream.
        headers: { ...upload.header, 'content-length': String(file.size) },
      });
      if (!put.ok) return put;
      const verify = object.actions?.verify;
      if (verify) {
        const verified = await call(verify.href, {
          method: 'POST',
          headers: { ...lfsHeaders, ...verify.header },
          body: JSON.stringify({ oid: file.oid, size: file.size }),
        });
        if (!verified.ok) return verified;
      }
      uploaded++;
    }
  }

  // Small files travel inside the commit itself.
  const contents = new Map<string, string>();
  for (const f of files) {
    if (modes.get(f.path) !== 'lfs') {
      contents.set(f.path, (await readFile(join(request.dir, f.path))).toString('base64'));
    }
  }
  const lines = [
    { key: 'header', value: { summary: request.summary, description: '' } },
    ...files.map((f) =>
      modes.get(f.path) === 'lfs'
        ? {
            key: 'lfsFile',
            value: { path: f.path, algo: 'sha256', oid: f.oid, size: f.size },
          }
        : {
            key: 'file',
            value: { path: f.path, content: contents.get(f.path), encoding: 'base64' },
          },
    ),
  ];
  const commit = await call(`${endpoint}/api/models/${repo}/commit/main`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: lines.map((l) => JSON.stringify(l)).join('\n'),
  });
  if (!commit.ok) return commit;
  const { commitUrl } = (await commit.value.json()) as { commitUrl: string };
  return ok({ commitUrl, files: files.length, uploaded, reused: lfs.length - uploaded });
}

async function hashFile(dir: string, path: string): Promise<LocalFile> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(join(dir, path))) {
    const bytes = chunk as Buffer;
    if (size < 512) head.push(bytes.subarray(0, 512 - size));
    size += bytes.length;
    hash.update(bytes);
  }
  return { path, size, oid: hash.digest('hex'), sample: Buffer.concat(head) };
}

/** Whatever a server or the network says, the token is never repeated. */
function hidden(message: string, token: string): string {
  return token === '' ? message : message.split(token).join('***');
}
