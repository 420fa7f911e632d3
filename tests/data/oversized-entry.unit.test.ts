import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import jpeg from 'jpeg-js';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBiomedicaSource } from '../../stages/biomedica/biomedica-source.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import { MAX_ENTRY_BYTES } from '../../stages/biomedica/shard-reader.ts';
import { CURATE_OUTPUT } from '../../stages/curate/contract.ts';
import { curateSamples } from './curate-biomedica.ts';

const SMALL_JPEG = Buffer.from(
  jpeg.encode({ width: 4, height: 4, data: Buffer.alloc(4 * 4 * 4, 128) }, 90).data,
);

/**
 * A shard with a 65 MB member between good samples, generated here (never committed): the
 * member is skipped unread, its sample is dropped with a counted reason, and the samples around
 * it are curated as usual.
 */
let dir: string;
let shard: string;
const OVERSIZED = 65 * 1024 * 1024;

const metadata = (key: string) => ({
  image_primary_label: ['Clinical Imaging'],
  image_secondary_label: ['skin lesion'],
  image_cluster_id: 'F1',
  article_accession_id: `PMC9${key}`,
  article_title: '[SYNTHETIC] test article',
  image_context: {},
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dermatune-oversized-'));
  shard = join(dir, '000000.tar');
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(shard));
  const add = (name: string, body: Buffer | string) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name }, body, (error) => (error ? reject(error) : resolve())),
    );
  for (const key of ['a1', 'b2', 'c3', 'd4']) {
    // b2's image is the oversized member, in the middle of the shard; the others are real JPEGs
    // (curate decodes every kept figure).
    const image = key === 'b2' ? Buffer.alloc(OVERSIZED, 0xff) : SMALL_JPEG;
    await add(`${key}.jpg`, image);
    await add(`${key}.json`, JSON.stringify(metadata(key)));
    await add(`${key}.txt`, `Figure of sample ${key}.`);
  }
  pack.finalize();
  await written;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an oversized tar member', () => {
  it('is over the per-entry limit', () => {
    expect(OVERSIZED).toBeGreaterThan(MAX_ENTRY_BYTES);
  });

  it('drops its sample with a counted reason and curates the rest of the shard', async () => {
    const out = join(dir, 'curate');
    const result = await curateSamples(
      readBiomedicaSource({ type: 'local', paths: [shard] }, { cacheDir: dir, baseDir: dir }),
      out,
      { filter: DEFAULT_LABEL_FILTER },
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.read).toBe(4);
    expect(result.value.kept).toBe(3);
    expect(result.value.dropped).toEqual({ 'entry-too-large': 1 });
    const dropped = (await readFile(join(out, CURATE_OUTPUT.dropped), 'utf8')).trim().split('\n');
    expect(dropped.map((line) => JSON.parse(line))).toEqual([
      { key: 'b2', shard: '000000.tar', reason: 'entry-too-large' },
    ]);
    const kept = (await readFile(join(out, CURATE_OUTPUT.records), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).key);
    expect(kept).toEqual(['a1', 'c3', 'd4']);
  });
});
