import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fail, ok, type Result } from './result.ts';

export type ReadFileFailure =
  | { reason: 'not-found'; message: string }
  | { reason: 'not-a-regular-file'; message: string }
  | { reason: 'too-large'; message: string; size: number; limit: number }
  | { reason: 'unreadable'; message: string };

/**
 * Reads a file the user named, refusing anything that is not a regular file or is larger than
 * `maxBytes`, before reading it: a FIFO would block forever and /dev/zero never ends. The file
 * is opened non-blocking (so opening a FIFO cannot hang) and checked on the open handle (so it
 * cannot be swapped between the check and the read).
 */
export async function readRegularFile(
  path: string,
  maxBytes: number,
): Promise<Result<string, ReadFileFailure>> {
  const bytes = await readRegularBytes(path, maxBytes);
  return bytes.ok ? ok(bytes.value.toString('utf8')) : bytes;
}

/** `readRegularFile` for binary files (an image the user names): the bytes as read. */
export async function readRegularBytes(
  path: string,
  maxBytes: number,
): Promise<Result<Buffer, ReadFileFailure>> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? fail({ reason: 'not-found', message: 'no such file' })
      : fail({ reason: 'unreadable', message: `cannot read it (${code})` });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      const what = info.isDirectory()
        ? 'a folder'
        : info.isFIFO()
          ? 'a FIFO'
          : info.isCharacterDevice() || info.isBlockDevice()
            ? 'a device'
            : 'not a regular file';
      return fail({ reason: 'not-a-regular-file', message: `it is ${what}, not a regular file` });
    }
    if (info.size > maxBytes) {
      return fail({
        reason: 'too-large',
        message: `it is ${info.size} bytes; the limit is ${maxBytes} bytes`,
        size: info.size,
        limit: maxBytes,
      });
    }
    // Read at most one byte past the limit, in case the file grew since the stat.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(info.size, 0) + 1));
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length >= buffer.length) break;
    }
    if (length > maxBytes) {
      return fail({
        reason: 'too-large',
        message: `it is over the limit of ${maxBytes} bytes`,
        size: length,
        limit: maxBytes,
      });
    }
    return ok(buffer.subarray(0, length));
  } catch (error) {
    return fail({
      reason: 'unreadable',
      message: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    });
  } finally {
    await handle.close();
  }
}
