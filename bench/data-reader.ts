// Data benchmark: stream a large synthetic BIOMEDICA-format shard through the reader and the
// curation filter, locally and through a local hub-protocol server that cuts the first transfer
// midway, and report throughput and peak memory against the shard size (the reader must not hold
// a shard in memory). Usage: node bench/data-reader.ts [--samples N] [--image-kb K]
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { biomedicaItems } from '../stages/biomedica/biomedica-data-source.ts';
import { type BiomedicaSource, readBiomedicaSource } from '../stages/biomedica/biomedica-source.ts';
import { DEFAULT_LABEL_FILTER } from '../stages/biomedica/label-filter.ts';
import { curateRecords } from '../stages/curate/curate.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const SAMPLES = option('samples', 3000);
const IMAGE_KB = option('image-kb', 64);

const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-data-'));
try {
  const shard = join(work, 'shards', '000000.tar');
  await mkdir(join(work, 'shards'), { recursive: true });
  await writeShard(shard);
  const shardBytes = (await stat(shard)).size;
  console.log(
    `shard: ${SAMPLES} samples, ${(shardBytes / 2 ** 20).toFixed(1)} MiB (${IMAGE_KB} KiB images)`,
  );

  const local = await measure(() =>
    curate({ type: 'local', paths: [shard] }, join(work, 'out-local'), work),
  );
  report('local', local, shardBytes);

  const server = await serveWithOneCut(shard, Math.floor(shardBytes / 2));
  const hub = await measure(() =>
    curate(
      {
        type: 'hub',
        repo: 'bench/shards',
        revision: 'b'.repeat(40),
        shards: ['000000.tar'],
        endpoint: server.endpoint,
      },
      join(work, 'out-hub'),
      work,
    ),
  );
  report(`hub (cut at ${server.cutAt} bytes, resumed)`, hub, shardBytes);
  console.log(`hub requests: ${server.requests.join(', ')}`);
  await server.close();
} finally {
  await rm(work, { recursive: true, force: true });
}

async function curate(source: BiomedicaSource, outDir: string, workDir: string) {
  const samples = readBiomedicaSource(source, {
    cacheDir: join(workDir, 'cache'),
    baseDir: workDir,
    env: { HF_TOKEN: 'bench' },
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
  const result = await curateRecords(biomedicaItems(samples, DEFAULT_LABEL_FILTER), outDir, {
    missingGroup: 'missing-article-id',
  });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

async function measure<T>(run: () => Promise<T>) {
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const value = await run();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { value, seconds, rssGrowth: peak - baseline, peak };
}

function report(
  label: string,
  m: Awaited<ReturnType<typeof measure<{ read: number; kept: number }>>>,
  shardBytes: number,
) {
  console.log(
    `${label}: read ${m.value.read}, kept ${m.value.kept} in ${m.seconds.toFixed(2)} s = ` +
      `${Math.round(m.value.read / m.seconds)} samples/s, ` +
      `${(shardBytes / 2 ** 20 / m.seconds).toFixed(1)} MiB/s; ` +
      `peak RSS ${(m.peak / 2 ** 20).toFixed(0)} MiB, growth ${(m.rssGrowth / 2 ** 20).toFixed(1)} MiB ` +
      `(${((100 * m.rssGrowth) / shardBytes).toFixed(1)}% of the shard)`,
  );
}

/** Writes the shard entry by entry, so the benchmark itself never holds it in memory. */
async function writeShard(file: string) {
  const pack = tar.pack();
  const written = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(file));
  const add = (name: string, body: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: body.length }, body, (e) => (e ? reject(e) : resolve())),
    );
  for (let i = 0; i < SAMPLES; i++) {
    const key = `PMC${String(i).padStart(7, '0')}_F1`;
    const skin = i % 2 === 0;
    await add(`${key}.jpg`, randomBytes(IMAGE_KB * 1024));
    await add(
      `${key}.json`,
      Buffer.from(
        JSON.stringify({
          image_cluster_id: 'F1',
          image_primary_label: [skin ? 'Clinical Imaging' : 'Microscopy'],
          image_secondary_label: [skin ? 'skin lesion' : 'light microscopy'],
          image_size: [224, 224],
          image_context: { F1: [`<p>See <xref rid="F1">Figure 1</xref> of article ${i}.</p>`] },
          article_accession_id: `PMC${String(Math.floor(i / 3)).padStart(7, '0')}`,
          article_title: `[SYNTHETIC] Bench article ${Math.floor(i / 3)}`,
          article_license: 'CC BY',
        }),
      ),
    );
    await add(`${key}.txt`, Buffer.from(`Synthetic caption ${i}.`));
  }
  pack.finalize();
  await written;
}

/** A minimal hub-protocol file server that streams from disk and cuts the first transfer. */
async function serveWithOneCut(file: string, cutAt: number) {
  const size = (await stat(file)).size;
  const requests: string[] = [];
  let cut = false;
  const server = createServer((req, res) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    requests.push(`${range ? 206 : 200}@${start}`);
    res.writeHead(range ? 206 : 200, {
      'content-length': String(size - start),
      ...(range ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const end = cut ? size - 1 : Math.min(size - 1, start + cutAt - 1);
    const stream = createReadStream(file, { start, end });
    stream.pipe(res, { end: cut });
    if (!cut) {
      cut = true;
      stream.on('end', () => setTimeout(() => res.socket?.destroy(), 300));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cutAt,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
