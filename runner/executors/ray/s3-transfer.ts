import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { fail, ok, type Result } from '../../result.ts';
import { listFiles } from './shared-storage.ts';

/**
 * Folders to and from S3, with a manifest of every file's size and sha256 written last: a
 * prefix whose manifest exists is complete (the object-store form of "write aside, rename"),
 * and every download is checked against it. The Python stager writes and reads the same format
 * (`dermatune_s3_stage/tree.py`); the manifest's name is handed to it by `S3Storage`.
 *
 * Uploads go through lib-storage's `Upload`: multipart above one part's size, each part sent
 * with a CRC32 the server checks, each part request retried by the SDK on its own, so a part
 * that fails is sent again and the parts that arrived are not. Downloads are ranged GETs
 * appended to a `.part` file: a body cut off mid-stream is asked for again from the first
 * missing byte (the SDK retries a request that fails before its body starts).
 */
export const MANIFEST_NAME = '.dermatune-manifest.json';

/** Part size of multipart uploads and of ranged downloads (S3's minimum part is 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;

/** Files moved at once: a train subset is thousands of small images, each a round trip. */
const FILES_AT_ONCE = 8;

/** Times a download continues after its body was cut off, before it gives up. */
const STREAM_RESUMES = 4;

export interface ManifestEntry {
  size: number;
  sha256: string;
}

export interface TreeManifest {
  files: Record<string, ManifestEntry>;
}

export interface S3Place {
  client: S3Client;
  bucket: string;
}

export type TransferFailure = { reason: 'missing' | 'checksum-mismatch'; message: string };

/** Uploads a folder under `prefix/`, then its manifest. */
export async function uploadTree(place: S3Place, dir: string, prefix: string): Promise<void> {
  const files: Record<string, ManifestEntry> = {};
  await eachAtOnce(await listFiles(dir), async (file) => {
    const path = join(dir, file);
    files[file] = { size: (await stat(path)).size, sha256: await fileSha256(path) };
    await uploadFile(place, path, `${prefix}/${file}`);
  });
  await place.client.send(
    new PutObjectCommand({
      Bucket: place.bucket,
      Key: `${prefix}/${MANIFEST_NAME}`,
      Body: JSON.stringify({ files } satisfies TreeManifest),
      ContentType: 'application/json',
    }),
  );
}

export async function uploadFile(place: S3Place, path: string, key: string): Promise<void> {
  await new Upload({
    client: place.client,
    params: {
      Bucket: place.bucket,
      Key: key,
      Body: createReadStream(path),
      ChecksumAlgorithm: 'CRC32',
    },
    partSize: PART_BYTES,
    queueSize: 4,
  }).done();
}

/** The manifest under `prefix/`, or undefined when the prefix is not complete (or absent). */
export async function readManifest(
  place: S3Place,
  prefix: string,
): Promise<TreeManifest | undefined> {
  try {
    const got = await place.client.send(
      new GetObjectCommand({ Bucket: place.bucket, Key: `${prefix}/${MANIFEST_NAME}` }),
    );
    return JSON.parse(
      await (got.Body as { transformToString(): Promise<string> }).transformToString(),
    ) as TreeManifest;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Downloads the complete folder under `prefix/` into `dir`, every file checked. */
export async function downloadTree(
  place: S3Place,
  prefix: string,
  dir: string,
): Promise<Result<void, TransferFailure>> {
  const manifest = await readManifest(place, prefix);
  if (manifest === undefined) {
    return fail({ reason: 'missing', message: `s3://${place.bucket}/${prefix}/ has no manifest` });
  }
  let refused: TransferFailure | undefined;
  await eachAtOnce(Object.entries(manifest.files).sort(), async ([file, entry]) => {
    if (refused !== undefined) return;
    const got = await downloadFile(place, `${prefix}/${file}`, join(dir, file), entry);
    if (!got.ok) refused = got.error;
  });
  return refused === undefined ? ok(undefined) : fail(refused);
}

/**
 * One object into `dest` by ranged GETs, resuming a `.part` file left by an earlier attempt,
 * and checked against the manifest's sha256 before it takes its name.
 */
export async function downloadFile(
  place: S3Place,
  key: string,
  dest: string,
  expected: ManifestEntry,
): Promise<Result<void, TransferFailure>> {
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let offset = await sizeOf(part);
  if (offset > expected.size) {
    await rm(part, { force: true });
    offset = 0;
  }
  const handle = await open(part, 'a');
  try {
    let resumes = 0;
    while (offset < expected.size) {
      const end = Math.min(offset + PART_BYTES, expected.size) - 1;
      try {
        const got = await place.client.send(
          new GetObjectCommand({ Bucket: place.bucket, Key: key, Range: `bytes=${offset}-${end}` }),
        );
        for await (const chunk of got.Body as Readable) {
          await handle.write(chunk as Buffer);
          offset += (chunk as Buffer).length;
        }
      } catch (error) {
        // A body cut off mid-stream: what arrived stays; ask again from the first missing byte.
        if (!isStreamCut(error) || resumes >= STREAM_RESUMES) throw error;
        resumes += 1;
      }
    }
  } finally {
    await handle.close();
  }
  const digest = await fileSha256(part);
  if (digest !== expected.sha256) {
    await rm(part, { force: true });
    return fail({
      reason: 'checksum-mismatch',
      message: `s3://${place.bucket}/${key}: sha256 ${digest.slice(0, 12)} is not the manifest's ${expected.sha256.slice(0, 12)}; not used`,
    });
  }
  await rename(part, dest);
  return ok(undefined);
}

/** Deletes every object under `prefix/`. */
export async function deletePrefix(place: S3Place, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const listed = await place.client.send(
      new ListObjectsV2Command({
        Bucket: place.bucket,
        Prefix: `${prefix}/`,
        ContinuationToken: token,
      }),
    );
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length > 0) {
      await place.client.send(
        new DeleteObjectsCommand({ Bucket: place.bucket, Delete: { Objects: keys, Quiet: true } }),
      );
    }
    token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
  } while (token !== undefined);
}

/** Runs `work` over the items, `FILES_AT_ONCE` at a time. */
async function eachAtOnce<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, items.length) }, lane));
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** A connection that dropped while the body streamed (not an S3 error answer). */
function isStreamCut(error: unknown): boolean {
  const { code, message, $metadata } = error as {
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if ($metadata?.httpStatusCode !== undefined) return false;
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    /aborted|socket hang up|premature close/i.test(message ?? '')
  );
}
