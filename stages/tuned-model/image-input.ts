import { readRegularBytes } from '../../runner/regular-file.ts';
import { fail, ok, type Result } from '../../runner/result.ts';

/**
 * An image the user hands `ask`: refused before any model loads when it is not a regular file,
 * is larger than a photograph needs to be, or does not start like an image format the worker's
 * Pillow opens. A file that starts right but does not decode is the worker's `bad-image`.
 */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

export interface ImageInput {
  bytes: Buffer;
  /** The format's usual extension, for the copy the worker reads. */
  extension: string;
}

const SIGNATURES: { extension: string; matches(bytes: Buffer): boolean }[] = [
  { extension: 'png', matches: (b) => b.subarray(0, 8).equals(PNG) },
  { extension: 'jpg', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { extension: 'gif', matches: (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1')) },
  {
    extension: 'webp',
    matches: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
  { extension: 'bmp', matches: (b) => b.subarray(0, 2).toString('latin1') === 'BM' },
];

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export async function readImageInput(path: string): Promise<Result<ImageInput, string>> {
  const read = await readRegularBytes(path, MAX_IMAGE_BYTES);
  if (!read.ok) {
    const why =
      read.error.reason === 'too-large'
        ? `it is too large (${read.error.size} bytes; the limit is ${MAX_IMAGE_BYTES})`
        : read.error.message;
    return fail(`--image ${path}: ${why}`);
  }
  return imageInput(read.value, `--image ${path}`);
}

/** Bytes that came some other way (`serve`'s upload): the same limit and formats. */
export function imageInput(bytes: Buffer, what: string): Result<ImageInput, string> {
  if (bytes.length > MAX_IMAGE_BYTES) {
    return fail(
      `${what}: it is too large (${bytes.length} bytes; the limit is ${MAX_IMAGE_BYTES})`,
    );
  }
  const format = SIGNATURES.find((s) => s.matches(bytes));
  if (!format) return fail(`${what}: not an image (PNG, JPEG, GIF, WebP or BMP expected)`);
  return ok({ bytes, extension: format.extension });
}
