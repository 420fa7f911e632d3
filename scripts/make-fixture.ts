/**
 * Writes the synthetic BIOMEDICA-format fixture (`tests/fixtures/biomedica/`) from the articles in
 * make-fixture-articles.ts: WebDataset tar shards of `<key>.jpg`, `<key>.json`, `<key>.txt`.
 * Deterministic to the byte (fixed mtimes, owners and modes; seeded images), so regenerating
 * the fixture leaves git clean and a test can prove it.
 *
 *   node scripts/make-fixture.ts [outDir]
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodeJpeg } from 'jpeg-js';
import tar from 'tar-stream';
import { seededRandom } from '../stages/shared/seeded-random.ts';
import {
  type FixtureArticle,
  type FixtureFigure,
  fixtureArticles,
} from './make-fixture-articles.ts';

/** Fixed so that regenerating the shards gives identical bytes. */
const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');
const SYNTHETIC_TITLE_PREFIX = '[SYNTHETIC] ';
const SIZES: ReadonlyArray<readonly [number, number]> = [
  [96, 72],
  [80, 80],
  [72, 96],
  [112, 84],
];

export interface FixtureSample {
  key: string;
  jpg: Buffer | undefined;
  caption: string;
  metadata: Record<string, unknown>;
}

/** Shard path (relative, as on the hub: `<subset>/<number>.tar`) to its samples in key order. */
export function fixtureShards(): Map<string, FixtureSample[]> {
  const commercial = fixtureArticles.filter((a) => !a.license.includes('NC'));
  const noncommercial = fixtureArticles.filter((a) => a.license.includes('NC'));
  const half = Math.ceil(commercial.length / 2);
  const groups: Array<[string, FixtureArticle[], string]> = [
    ['commercial/000000.tar', commercial.slice(0, half), 'commercial'],
    ['commercial/000001.tar', commercial.slice(half), 'commercial'],
    ['noncommercial/000000.tar', noncommercial, 'noncommercial'],
  ];
  const shards = new Map<string, FixtureSample[]>();
  for (const [path, articles, imageSet] of groups) {
    const samples = articles.flatMap((article) => articleSamples(article, imageSet));
    samples.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    shards.set(path, samples);
  }
  return shards;
}

export async function writeFixture(outDir: string): Promise<{ shards: string[]; samples: number }> {
  await rm(outDir, { recursive: true, force: true });
  const shards = fixtureShards();
  let count = 0;
  for (const [path, samples] of shards) {
    const file = join(outDir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, await packShard(samples));
    count += samples.length;
  }
  await writeFile(join(outDir, 'README.md'), readme(shards));
  return { shards: [...shards.keys()], samples: count };
}

function articleSamples(article: FixtureArticle, imageSet: string): FixtureSample[] {
  const imageContext: Record<string, string[]> = {};
  for (const figure of article.figures) imageContext[figure.id] = figure.mentions;
  const samples: FixtureSample[] = [];
  article.figures.forEach((figure, figureIndex) => {
    const panels = figure.panels ?? 1;
    for (let panel = 0; panel < panels; panel++) {
      const suffix = panels > 1 ? `_${String.fromCharCode(97 + panel)}` : '';
      const key = `${article.pmcid}_${figure.id}${suffix}`;
      const [width, height] = SIZES[hashInt(key) % SIZES.length] as readonly [number, number];
      const jpg = syntheticJpeg(key, width, height, figure);
      const metadata: Record<string, unknown> = {
        image_file_name: `${key}.jpg`,
        image_cluster_id: figure.id,
        image_hash: createHash('sha256').update(jpg).digest('hex').slice(0, 16),
        image_label_id: figureIndex,
        image_panel_type: panels > 1 ? 'multiple panels' : 'single panel',
        image_panel_subtype: panelSubtype(figure),
        image_primary_label: figure.primary,
        image_secondary_label: figure.secondary,
        image_size: [width, height],
        image_set: imageSet,
        image_context: imageContext,
        article_accession_id: article.pmcid,
        article_title: SYNTHETIC_TITLE_PREFIX + article.title,
        article_journal: article.journal,
        article_date: article.date,
        article_citation: citation(article),
        article_license: article.license,
        article_keywords: article.keywords,
        article_mesh_terms: article.mesh,
        article_abstract: article.abstract,
      };
      if (figure.broken === 'no-labels') {
        delete metadata.image_primary_label;
        delete metadata.image_secondary_label;
      }
      samples.push({
        key,
        jpg: figure.broken === 'no-image' ? undefined : jpg,
        caption: figure.caption,
        metadata,
      });
    }
  });
  return samples;
}

function citation(article: FixtureArticle): string {
  const year = article.date.slice(0, 4);
  const volume = (hashInt(article.pmcid) % 40) + 1;
  const page = (hashInt(`${article.pmcid}/page`) % 900) + 1;
  return `Synthetic Author A, Synthetic Author B. ${article.title}. ${article.journal}. ${year};${volume}:${page}.`;
}

function panelSubtype(figure: FixtureFigure): string {
  const secondary = figure.secondary.join(' ');
  if (secondary.includes('skin')) return 'photograph';
  if (secondary.includes('microscopy')) return 'micrograph';
  if (secondary.includes('chart') || secondary.includes('flowchart')) return 'diagram';
  return 'radiological image';
}

/**
 * A small image that need not look clinical but differs per key: a tinted background with an
 * elliptical "lesion", coloured by the kind of figure, and seeded noise.
 */
function syntheticJpeg(key: string, width: number, height: number, figure: FixtureFigure): Buffer {
  const random = seededRandom(key, 'fixture-image');
  const subtype = panelSubtype(figure);
  const background =
    subtype === 'photograph'
      ? [224, 180, 150]
      : subtype === 'micrograph'
        ? [235, 200, 225]
        : subtype === 'diagram'
          ? [250, 250, 250]
          : [30, 30, 30];
  const spot =
    subtype === 'photograph'
      ? [170 + random.below(60), 40 + random.below(60), 40 + random.below(40)]
      : subtype === 'micrograph'
        ? [120, 60, 160]
        : subtype === 'diagram'
          ? [40, 90, 200]
          : [200, 200, 200];
  const cx = width * (0.3 + 0.4 * random.next());
  const cy = height * (0.3 + 0.4 * random.next());
  const rx = width * (0.12 + 0.2 * random.next());
  const ry = height * (0.12 + 0.2 * random.next());
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
      const base = inside ? spot : background;
      const noise = random.below(17) - 8;
      const offset = (y * width + x) * 4;
      for (let channel = 0; channel < 3; channel++) {
        data[offset + channel] = clampByte((base[channel] as number) + noise);
      }
      data[offset + 3] = 255;
    }
  }
  return encodeJpeg({ data, width, height }, 70).data;
}

function clampByte(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

function hashInt(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

async function packShard(samples: FixtureSample[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  const add = (name: string, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name,
          size: body.length,
          mtime: FIXED_MTIME,
          mode: 0o644,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
        },
        body,
        (error) => (error ? reject(error) : resolve()),
      );
    });
  for (const sample of samples) {
    if (sample.jpg) await add(`${sample.key}.jpg`, sample.jpg);
    await add(`${sample.key}.json`, Buffer.from(`${JSON.stringify(sample.metadata)}\n`));
    await add(`${sample.key}.txt`, Buffer.from(sample.caption));
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

function readme(shards: Map<string, FixtureSample[]>): string {
  const all = [...shards.values()].flat();
  const articles = new Set(all.map((s) => s.metadata.article_accession_id));
  const lines = [
    '# Synthetic BIOMEDICA-format fixture',
    '',
    'SYNTHETIC DATA. Every article, caption, paragraph and image here was made up for dermatune;',
    'none comes from PubMed Central or BIOMEDICA, and the PMCIDs are fake. Article titles carry',
    `the prefix \`${SYNTHETIC_TITLE_PREFIX.trim()}\`. Images are generated shapes, not photographs.`,
    '',
    'Generated by `node scripts/make-fixture.ts` from `scripts/make-fixture-articles.ts`; the',
    'output is byte-for-byte deterministic, so do not edit these files by hand.',
    '',
    `${all.length} samples from ${articles.size} articles in ${shards.size} WebDataset shards:`,
    '',
    ...[...shards].map(([path, samples]) => `- \`${path}\`: ${samples.length} samples`),
    '',
    'Each sample is `<key>.jpg`, `<key>.json` (BIOMEDICA metadata fields) and `<key>.txt`',
    '(caption). On purpose: non-skin figures (radiology, histology, charts) the label filter',
    'drops, label case variants, multi-panel figures, captions with photographer credits, one',
    'sample without its image and one without labels.',
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir =
    process.argv[2] ?? fileURLToPath(new URL('../tests/fixtures/biomedica', import.meta.url));
  const written = await writeFixture(outDir);
  console.log(`wrote ${written.samples} samples in ${written.shards.length} shards to ${outDir}`);
}
