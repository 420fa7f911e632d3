// Shard download benchmark: reads a selection of generated BIOMEDICA-format shards through the
// local hub-protocol server (tests/data/hub-test-server.ts), each transfer capped at a fixed
// bandwidth as a CDN connection is, with 1 and with 4 downloads at once, and prints throughput
// beside the reference: the cap times the number of transfers (the most parallelism can give).
// Usage: node bench/shard-downloads.ts [--shards N] [--shard-mb M] [--mbps B]
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { readBiomedicaSource } from '../stages/biomedica/biomedica-source.ts';
import { startHubTestServer } from '../tests/data/hub-test-server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const SHARDS = option('shards', 8);
const SHARD_MB = option('shard-mb', 4);
const MBPS = option('mbps', 8);
const REPO = 'BIOMEDICA/bench';
const COMMIT = 'b'.repeat(40);
const TOKEN = 'hf_bench';

const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-downloads-'));
try {
  await mkdir(join(work, 'repo', 'commercial'), { recursive: true });
  for (let i = 0; i < SHARDS; i++) {
    await writeShard(join(work, 'repo', 'commercial', `${String(i).padStart(6, '0')}.tar`));
  }
  const server = await startHubTestServer({
    repo: REPO,
    commit: COMMIT,
    branches: ['main'],
    root: join(work, 'repo'),
    token: TOKEN,
    bytesPerSecond: MBPS * 1e6,
  });
  const totalMb = SHARDS * SHARD_MB;
  console.log(
    `${SHARDS} shards of ${SHARD_MB} MB through the local hub protocol, each transfer capped at ${MBPS} MB/s`,
  );
  try {
    for (const downloads of [1, 4]) {
      const started = performance.now();
      let samples = 0;
      for await (const item of readBiomedicaSource(
        { type: 'hub', repo: REPO, revision: 'main', shards: { select: 'all' }, downloads },
        {
          cacheDir: join(work, `cache-${downloads}`),
          baseDir: work,
          env: { HF_TOKEN: TOKEN, HF_ENDPOINT: server.endpoint },
        },
      )) {
        if (!item.ok) throw new Error(item.error.message);
        samples++;
      }
      const seconds = (performance.now() - started) / 1000;
      const reference = Math.min(downloads, SHARDS) * MBPS;
      console.log(
        `downloads ${downloads}: ${samples} samples in ${seconds.toFixed(2)} s = ${(totalMb / seconds).toFixed(1)} MB/s (reference: at most ${reference} MB/s; ${server.maxConcurrentTransfers()} transfers at once)`,
      );
    }
  } finally {
    await server.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

/** A shard of 100 samples whose images are random bytes (incompressible, like JPEG). */
async function writeShard(path: string): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  const perSample = Math.floor((SHARD_MB * 1e6) / 100);
  for (let n = 0; n < 100; n++) {
    const key = `PMC${n}_F1`;
    await entry(pack, `${key}.jpg`, randomBytes(perSample));
    await entry(pack, `${key}.txt`, `caption ${n}`);
    await entry(pack, `${key}.json`, JSON.stringify({ image_primary_label: ['Clinical Imaging'] }));
  }
  pack.finalize();
  await done;
}

function entry(pack: tar.Pack, name: string, body: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) =>
    pack.entry({ name }, body, (error) => (error ? reject(error) : resolve())),
  );
}
