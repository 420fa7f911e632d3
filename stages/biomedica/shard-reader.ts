import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { fail, ok, type Result } from '../../runner/result.ts';
import {
  type BiomedicaMetadata,
  type BiomedicaSample,
  IMAGE_EXTENSIONS,
} from './biomedica-sample.ts';

export interface ShardReadFailure {
  reason: 'corrupt-shard';
  shard: string;
  message: string;
}

/**
 * One file of a sample is small (an image, a caption); a bigger one is a broken or foreign
 * member. It is skipped unread (never buffered) and its sample is handed on marked
 * `oversized`, so curation counts it as a drop instead of the whole shard failing.
 */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/**
 * Streams a WebDataset tar shard and yields its samples one by one, grouping consecutive
 * entries that share a key (`dir/key.ext`), as WebDataset does. Only the entries of the current
 * sample are held in memory, never the shard. A broken stream ends the iteration with one
 * failure item; the samples read before it have already been yielded.
 */
export async function* readShardSamples(
  source: Readable,
  shard: string,
): AsyncGenerator<Result<BiomedicaSample, ShardReadFailure>> {
  const extract = tar.extract();
  source.on('error', (error) => extract.destroy(error));
  source.pipe(extract);
  let current: BiomedicaSample | undefined;
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (entry.header.type !== 'file' || !name) {
        entry.resume();
        continue;
      }
      const { key, extension } = splitWebDatasetName(name);
      if (current && current.key !== key) {
        yield ok(current);
        current = undefined;
      }
      current ??= { key, shard };
      if ((entry.header.size ?? 0) > MAX_ENTRY_BYTES) {
        await drain(entry);
        current.oversized = { name, bytes: entry.header.size ?? 0 };
        continue;
      }
      addFile(current, extension, await collect(entry));
    }
  } catch (error: unknown) {
    if (current) yield ok(current);
    yield fail({
      reason: 'corrupt-shard',
      shard,
      message: `reading ${shard}: ${error instanceof Error ? error.message : String(error)}`,
    });
    return;
  }
  if (current) yield ok(current);
}

/** WebDataset's rule: the key is everything before the first dot of the file's base name. */
export function splitWebDatasetName(name: string): { key: string; extension: string } {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  if (dot < 0) return { key: name, extension: '' };
  return { key: name.slice(0, dot), extension: name.slice(dot + 1).toLowerCase() };
}

function addFile(sample: BiomedicaSample, extension: string, bytes: Buffer): void {
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(extension)) {
    sample.image = { extension, bytes };
  } else if (extension === 'txt') {
    sample.caption = bytes.toString('utf8');
  } else if (extension === 'json') {
    const text = bytes.toString('utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      sample.metadata =
        parsed && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as BiomedicaMetadata)
          : { unparseable: text.slice(0, 200) };
    } catch {
      sample.metadata = { unparseable: text.slice(0, 200) };
    }
  }
  // Other members of a sample (.npy, .cls, ...) are not used by dermatune.
}

async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of entry) {
    // Discarded: reading on is what moves the tar stream to the next member.
  }
}

async function collect(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
