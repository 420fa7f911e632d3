import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import { imageProblem } from '../../stages/curate/image-check.ts';
import { curateSamples } from './curate-biomedica.ts';

const SHARD = join('tests', 'fixtures', 'biomedica', 'commercial', '000000.tar');

/** The fixture shard with some members' bytes replaced. */
async function shardWith(replace: Record<string, Buffer>): Promise<string> {
  const extract = tar.extract();
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const finished = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  extract.on('entry', (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => parts.push(c as Buffer));
    stream.on('end', () => {
      const body = replace[header.name] ?? Buffer.concat(parts);
      pack.entry({ name: header.name, size: body.length }, body, next);
    });
  });
  extract.on('finish', () => pack.finalize());
  extract.end(await readFile(SHARD));
  await finished;
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-curate-images-'));
  await writeFile(join(dir, 'shard.tar'), Buffer.concat(chunks));
  return dir;
}

describe('curate checks that every kept figure is an image', () => {
  it('drops bytes that are not an image, or do not decode, with a counted reason', async () => {
    const original = await readFile(SHARD);
    expect(original.length).toBeGreaterThan(0);
    const good = await curateSamples(
      readBiomedicaSource(
        { type: 'local', paths: [SHARD] },
        { cacheDir: '', baseDir: process.cwd() },
      ),
      await mkdtemp(join(tmpdir(), 'dermatune-curate-out-')),
      { filter: DEFAULT_LABEL_FILTER },
    );
    if (!good.ok) throw new Error(good.error.message);
    expect(good.value.dropped['not-an-image']).toBeUndefined();

    const jpegHead = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
    const dir = await shardWith({
      // An HTML error page saved under an image name, and a JPEG cut after its header.
      'PMC0000101_F1.jpg': Buffer.from('<html><body>403 Forbidden</body></html>'),
      'PMC0000101_F2_a.jpg': jpegHead,
    });
    const out = await mkdtemp(join(tmpdir(), 'dermatune-curate-out-'));
    const bad = await curateSamples(
      readBiomedicaSource(
        { type: 'local', paths: [join(dir, 'shard.tar')] },
        { cacheDir: '', baseDir: dir },
      ),
      out,
      { filter: DEFAULT_LABEL_FILTER },
    );
    if (!bad.ok) throw new Error(bad.error.message);
    // Both were kept figures before (clinical skin lesions); now both are dropped.
    expect(bad.value.dropped['not-an-image']).toBe(2);
    expect(bad.value.kept).toBe(good.value.kept - 2);
    const dropped = (await readFile(join(out, 'dropped.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; reason: string; detail?: string })
      .filter((d) => d.reason === 'not-an-image');
    expect(dropped.map((d) => [d.key, d.detail?.split(' (')[0]])).toEqual([
      ['PMC0000101_F1', 'not a JPEG file'],
      ['PMC0000101_F2_a', 'JPEG does not decode'],
    ]);
  });

  it('decodes PNGs for real: a bad CRC or truncated pixel data is caught', () => {
    const png = (idat: Buffer, crcOk = true) => {
      const chunk = (type: string, body: Buffer) => {
        const head = Buffer.alloc(4);
        head.writeUInt32BE(body.length);
        const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crcOk ? zlibCrc(typed) >>> 0 : 0);
        return Buffer.concat([head, typed, crc]);
      };
      const ihdr = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', idat),
        chunk('IEND', Buffer.alloc(0)),
      ]);
    };
    const rows = Buffer.alloc(2 * (1 + 2 * 3), 7);
    expect(imageProblem('png', png(deflateSync(rows)))).toBeUndefined();
    expect(imageProblem('png', png(deflateSync(rows.subarray(0, 9))))).toBe(
      'PNG pixel data is truncated',
    );
    expect(imageProblem('png', png(deflateSync(rows), false))).toBe('PNG chunk IHDR fails its CRC');
    expect(imageProblem('png', Buffer.from('GIF89a'))).toBe('not a PNG file (bad signature)');
  });
});

import { crc32 as zlibCrc } from 'node:zlib';
