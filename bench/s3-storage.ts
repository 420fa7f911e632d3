// The Ray executor's S3 storage on loopback (moto in server mode, IAM on), against the shared
// folder it replaces:
//  1. transfer throughput for paper-size inputs: a train subset's images (2,541 figures of the
//     paper at about 150 KiB each) and one large file (a model shard), up and down through the
//     runner's client (multipart, ranged, checked), beside a plain folder copy (`cp`);
//  2. the executor's overhead per stage: the worker stages of a small sweep through a local Ray
//     head, one job at a time, with S3 storage vs the shared folder (runtime env warmed first).
//
// Usage: node bench/s3-storage.ts [--images 2541] [--image-kib 150] [--big-mib 256]
//        [--spec tests/ray/ray-demo.yaml] [--only qa-6] [--skip-ray]
// Figures go to stdout and bench/out/s3-storage.json. moto keeps objects in memory: the default
// sizes need about 1 GiB of RAM.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../runner/artifact-store.ts';
import { startLocalRayHead } from '../runner/executors/ray/local-head.ts';
import { startLocalS3 } from '../runner/executors/ray/local-s3.ts';
import { S3_JOB_REQUIREMENTS } from '../runner/executors/ray/s3-storage.ts';
import { downloadTree, type S3Place, uploadTree } from '../runner/executors/ray/s3-transfer.ts';
import { WORKER_REQUIREMENTS } from '../stages/model-worker/worker-client.ts';
import { copyStoreWithout } from '../tests/ray/ray-fixture.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '2541' },
    'image-kib': { type: 'string', default: '150' },
    'big-mib': { type: 'string', default: '256' },
    spec: { type: 'string', default: 'tests/ray/ray-demo.yaml' },
    only: { type: 'string', default: 'qa-6' },
    'skip-ray': { type: 'boolean', default: false },
  },
});
const images = Number(values.images);
const imageBytes = Number(values['image-kib']) * 1024;
const bigBytes = Number(values['big-mib']) * 1024 * 1024;
const MB = 1e6;

const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-s3-'));
const s3 = await startLocalS3();
if (!s3.ok) {
  console.error(s3.error);
  process.exit(1);
}
Object.assign(process.env, s3.value.credentials);
const place: S3Place = {
  bucket: s3.value.bucket,
  client: new S3Client({ endpoint: s3.value.endpoint, region: 'us-east-1', forcePathStyle: true }),
};
const report: Record<string, unknown> = {};

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await run();
  return [value, (performance.now() - started) / 1000];
}

try {
  const subset = join(work, 'subset');
  await mkdir(join(subset, 'images'), { recursive: true });
  for (let i = 0; i < images; i++) {
    await writeFile(
      join(subset, 'images', `${String(i).padStart(5, '0')}.jpg`),
      randomBytes(imageBytes),
    );
  }
  const big = join(work, 'model');
  await mkdir(big);
  await writeFile(join(big, 'model.safetensors'), randomBytes(bigBytes));

  console.log(`transfers on loopback (moto ${s3.value.endpoint}); folder copy (cp) for reference`);
  console.log('  what                                    bytes   up MB/s  down MB/s   cp MB/s');
  const transfers: {
    name: string;
    bytes: number;
    up_mb_s: number;
    down_mb_s: number;
    cp_mb_s: number;
  }[] = [];
  for (const [name, dir, bytes] of [
    [`${images} images x ${values['image-kib']} KiB`, subset, images * imageBytes],
    [`one file of ${values['big-mib']} MiB`, big, bigBytes],
  ] as const) {
    const prefix: string = `bench/${transfers.length}`;
    const [, up] = await timed(() => uploadTree(place, dir, prefix));
    const [got, down] = await timed(() =>
      downloadTree(place, prefix, join(work, `back-${transfers.length}`)),
    );
    if (!got.ok) throw new Error(got.error.message);
    const [, copy] = await timed(() =>
      cp(dir, join(work, `cp-${transfers.length}`), { recursive: true }),
    );
    const row = {
      name,
      bytes,
      up_mb_s: bytes / MB / up,
      down_mb_s: bytes / MB / down,
      cp_mb_s: bytes / MB / copy,
    };
    transfers.push(row);
    console.log(
      `  ${name.padEnd(34)} ${(bytes / MB).toFixed(0).padStart(8)} ${row.up_mb_s.toFixed(1).padStart(9)} ${row.down_mb_s.toFixed(1).padStart(10)} ${row.cp_mb_s.toFixed(0).padStart(9)}`,
    );
  }
  report.transfers = transfers;
  await rm(subset, { recursive: true, force: true });

  if (!values['skip-ray']) report.overhead = await stageOverhead();
  await mkdir('bench/out', { recursive: true });
  await writeFile('bench/out/s3-storage.json', JSON.stringify(report, null, 2));
} finally {
  await s3.value.stop();
  await rm(work, { recursive: true, force: true });
}

/** Per-stage seconds of the worker stages, one job at a time, shared folder vs S3. */
async function stageOverhead() {
  const spec = values.spec as string;
  const only = ['--only', values.only as string];
  const env = { ...process.env, CI: 'true', DERMATUNE_OFFLINE: '1' };
  const base = join(work, 'store-data');
  const data = await cli(['run', spec, ...only, '--store', base, '--no-tracking'], env);
  if (data.code !== 0) throw new Error(`the local run failed:\n${data.output.slice(-3000)}`);
  const head = await startLocalRayHead({
    cpus: 4,
    tempDir: join('/tmp', `dtbs3-${process.pid}`),
    requirements: [WORKER_REQUIREMENTS, S3_JOB_REQUIREMENTS],
    env: s3.ok ? s3.value.credentials : {},
  });
  if (!head.ok || !s3.ok) throw new Error(head.ok ? 'no S3' : head.error);
  const common = [
    ...['--executor', 'ray', '--ray-address', head.value.address, '--no-tracking'],
    ...['--set', 'executor.ray.use_gpus=false', '--set', 'executor.ray.max_jobs=1'],
  ];
  const storages = {
    shared: ['--ray-storage', join(work, 'shared')],
    s3: [
      ...['--ray-storage', `s3://${s3.value.bucket}/overhead`],
      ...['--set', `executor.ray.s3.endpoint_url=${s3.value.endpoint}`],
      ...['--set', 'executor.ray.s3.path_style=true'],
    ],
  };
  try {
    const times: Record<string, Map<string, number>> = {};
    // Warm-up (runtime env, pip check) once, then the measured runs.
    for (const name of ['shared', 'shared', 's3'] as const) {
      const store = join(work, `store-${name}`);
      await rm(store, { recursive: true, force: true });
      await copyStoreWithout(base, store, ['train', 'generate', 'evaluate']);
      const run = await cli(
        ['run', spec, ...only, '--store', store, ...common, ...storages[name]],
        env,
      );
      if (run.code !== 0) throw new Error(`${name} failed:\n${run.output.slice(-3000)}`);
      times[name] = await workerStageSeconds(store);
    }
    console.log(
      '\nper stage through Ray, one job at a time (seconds): shared folder | S3 | S3 overhead',
    );
    const rows = [];
    for (const [node, shared] of times.shared ?? []) {
      const viaS3 = times.s3?.get(node);
      if (viaS3 === undefined) continue;
      rows.push({ node, shared, s3: viaS3, overhead: viaS3 - shared });
      console.log(
        `  ${node.padEnd(28)} ${shared.toFixed(1).padStart(7)} ${viaS3.toFixed(1).padStart(7)} ${(viaS3 - shared >= 0 ? '+' : '') + (viaS3 - shared).toFixed(1)}`,
      );
    }
    const mean = rows.reduce((sum, r) => sum + r.overhead, 0) / Math.max(1, rows.length);
    console.log(
      `S3 overhead per stage vs the shared folder: mean ${mean.toFixed(1)} s over ${rows.length} stages`,
    );
    return { rows, mean };
  } finally {
    await head.value.stop();
    await rm(join('/tmp', `dtbs3-${process.pid}`), { recursive: true, force: true });
  }
}

async function workerStageSeconds(store: string): Promise<Map<string, number>> {
  const artifacts = new ArtifactStore(store);
  const seconds = new Map<string, number>();
  for (const key of await artifacts.storedKeys()) {
    const entry = await artifacts.lookup(key);
    if (entry.state !== 'present') continue;
    if (!['train', 'generate'].includes(entry.manifest.record.kind)) continue;
    seconds.set(entry.manifest.nodeId, entry.manifest.durationMs / 1000);
  }
  return seconds;
}

function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['runner/cli/bin.js', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}
