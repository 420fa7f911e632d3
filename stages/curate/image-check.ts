import { crc32, inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';

/**
 * Whether a figure's bytes are an image the model worker can open, checked at curate so a bad
 * file is dropped (and counted) before any LLM call is paid for it, instead of failing train.
 * PNG and JPEG are decoded for real (PNG: every chunk's CRC, the pixel data inflated to its
 * exact size; JPEG: a strict decode); WebP is checked by its RIFF header only, as nothing here
 * decodes it. Undefined when the image is good, else why not.
 */
export function imageProblem(extension: string, bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (extension) {
    case 'png':
      return pngProblem(buffer);
    case 'jpg':
    case 'jpeg':
      return jpegProblem(buffer);
    case 'webp':
      return buffer.length >= 16 &&
        buffer.toString('latin1', 0, 4) === 'RIFF' &&
        buffer.toString('latin1', 8, 12) === 'WEBP' &&
        /^VP8[ LX]$/.test(buffer.toString('latin1', 12, 16))
        ? undefined
        : 'not a WebP file (no RIFF/WEBP header)';
    default:
      return `.${extension} is not an image type the worker reads`;
  }
}

/** Figures in BIOMEDICA are far below this; anything larger would exhaust memory to decode. */
const MAX_PIXELS = 50_000_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function pngProblem(buffer: Buffer): string | undefined {
  if (buffer.length < 8 || !buffer.subarray(0, 8).equals(PNG_SIGNATURE))
    return 'not a PNG file (bad signature)';
  let offset = 8;
  let header:
    | { width: number; height: number; bitDepth: number; colorType: number; interlace: number }
    | undefined;
  const data: Buffer[] = [];
  let ended = false;
  while (offset + 12 <= buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > buffer.length) return `PNG chunk ${type} is truncated`;
    const body = buffer.subarray(offset + 8, offset + 8 + length);
    const stored = buffer.readUInt32BE(offset + 8 + length);
    if (crc32(buffer.subarray(offset + 4, offset + 8 + length)) !== stored)
      return `PNG chunk ${type} fails its CRC`;
    if (type === 'IHDR' && length === 13) {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8] ?? 0,
        colorType: body[9] ?? 0,
        interlace: body[12] ?? 0,
      };
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    offset += 12 + length;
  }
  if (!header) return 'PNG has no valid IHDR chunk';
  if (!ended) return 'PNG is truncated (no IEND chunk)';
  const channels = CHANNELS[header.colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(header.bitDepth))
    return 'PNG has an invalid colour type';
  if (header.width === 0 || header.height === 0 || header.width * header.height > MAX_PIXELS)
    return `PNG is ${header.width}x${header.height} pixels`;
  const rowBytes = (w: number) => Math.ceil((w * channels * header.bitDepth) / 8) + 1;
  const expected =
    header.interlace === 0
      ? header.height * rowBytes(header.width)
      : adam7Passes(header.width, header.height).reduce(
          (sum, [w, h]) => sum + (w > 0 && h > 0 ? h * rowBytes(w) : 0),
          0,
        );
  try {
    const pixels = inflateSync(Buffer.concat(data), { maxOutputLength: expected + 1 });
    return pixels.length === expected ? undefined : 'PNG pixel data is truncated';
  } catch {
    return 'PNG pixel data does not decode';
  }
}

function adam7Passes(width: number, height: number): [number, number][] {
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  return passes.map(([x, y, dx, dy]) => [
    Math.ceil((width - x) / dx),
    Math.ceil((height - y) / dy),
  ]);
}

function jpegProblem(buffer: Buffer): string | undefined {
  if (buffer.length < 4 || buffer[0] !== 0xff || buffer[1] !== 0xd8 || buffer[2] !== 0xff)
    return 'not a JPEG file (no SOI marker)';
  try {
    const image = jpeg.decode(buffer, {
      useTArray: true,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_PIXELS / 1_000_000,
      maxMemoryUsageInMB: 1024,
    });
    return image.width > 0 && image.height > 0 ? undefined : 'JPEG has no pixels';
  } catch (error) {
    return `JPEG does not decode (${error instanceof Error ? error.message : String(error)})`;
  }
}
