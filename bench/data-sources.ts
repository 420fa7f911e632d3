// Data-source benchmark (issue 27): records per second for each table source type on the same
// synthetic records with small images, beside pyarrow reading the same Parquet file in the same
// run (row group by row group into Python dicts), and the peak resident memory while the
// Parquet source reads a large file. Targets: dermatune's Parquet reader at >= 0.5x pyarrow's
// rate; at most 300 MB resident while reading a 2 GB file. Reading only: curate's image decode
// and writes come after the source, the same for every type.
// Usage: node bench/data-sources.ts [--records N] [--big-gb G] (G 0 skips the large file)
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../runner/project-root.ts';
import { ensurePythonEnv } from '../runner/python-env.ts';
import { DEFAULT_LABEL_FILTER } from '../stages/biomedica/label-filter.ts';
import { type DataSourceSpec, dataSourceFor } from '../stages/sources/data-source.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const RECORDS = option('records', 10_000);
const BIG_GB = option('big-gb', 2);
const BIG_IMAGE_BYTES = 100_000;
const PHOTO = join(projectRoot(), 'tests/fixtures/own-images/photos/PMC0000101_F1.jpg');

// pyarrow comes with MLflow's pinned requirements (the tracking server's venv is the project's).
const env = await ensurePythonEnv([join(projectRoot(), 'runner/tracking/requirements.txt')], (l) =>
  console.error(l),
);
if (!env.ok) throw new Error(env.error.message);
const pyarrow = (...argv: string[]) =>
  execFileSync(env.value.python, [join(projectRoot(), 'bench/data_sources_pyarrow.py'), ...argv], {
    encoding: 'utf8',
  });

const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-sources-'));
try {
  // The same records in each format: one small JPEG each (the fixture's, about 1 KB).
  const parquet = join(work, 'records.parquet');
  pyarrow('write', parquet, String(RECORDS), '0', '1000', PHOTO);
  await mkdir(join(work, 'folder', 'images'), { recursive: true });
  const csv = ['file_name,text,patient_id,diagnosis'];
  const jsonl: string[] = [];
  for (let i = 0; i < RECORDS; i++) {
    await copyFile(PHOTO, join(work, 'folder', 'images', `${i}.jpg`));
    csv.push(
      `images/${i}.jpg,"A synthetic lesion number ${i}, forearm.",p${i >> 2},Bacterial Infections`,
    );
    jsonl.push(
      JSON.stringify({
        id: `r${i}`,
        image: `images/${i}.jpg`,
        caption: `Lesion ${i}.`,
        patient_id: `p${i >> 2}`,
      }),
    );
  }
  await writeFile(join(work, 'folder', 'metadata.csv'), `${csv.join('\n')}\n`);
  await writeFile(join(work, 'folder', 'manifest.jsonl'), `${jsonl.join('\n')}\n`);

  console.log(`${RECORDS} records, one small JPEG each (${(await stat(PHOTO)).size} bytes)\n`);
  console.log('source                          records/s   seconds');
  const sources: [string, DataSourceSpec][] = [
    ['image folder (metadata.csv)', { type: 'imagefolder', path: join(work, 'folder') }],
    ['manifest (JSONL)', { type: 'manifest', path: join(work, 'folder', 'manifest.jsonl') }],
    ['parquet (image struct)', { type: 'parquet', paths: [parquet] }],
  ];
  const rates: Record<string, number> = {};
  for (const [name, source] of sources) {
    const { records, seconds } = await readAll(source);
    rates[name] = records / seconds;
    console.log(`${name.padEnd(30)} ${fmt(records / seconds)}   ${seconds.toFixed(2)}`);
  }
  const reference = JSON.parse(pyarrow('read', parquet)) as { rows: number; seconds: number };
  const pyarrowRate = reference.rows / reference.seconds;
  console.log(
    `${'pyarrow, same Parquet file'.padEnd(30)} ${fmt(pyarrowRate)}   ${reference.seconds.toFixed(2)}`,
  );
  const ratio = (rates['parquet (image struct)'] ?? 0) / pyarrowRate;
  console.log(
    `\nparquet source / pyarrow: ${ratio.toFixed(2)}x (target >= 0.5x): ${ratio >= 0.5 ? 'met' : 'NOT met'}`,
  );

  if (BIG_GB > 0) {
    const big = join(work, 'big.parquet');
    const rows = Math.round((BIG_GB * 1e9) / BIG_IMAGE_BYTES);
    pyarrow('write', big, String(rows), String(BIG_IMAGE_BYTES), '100');
    const size = (await stat(big)).size;
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const { records, seconds } = await readAll({ type: 'parquet', paths: [big] });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
    console.log(
      `\n${(size / 1e9).toFixed(2)} GB Parquet file (${records} rows of ${BIG_IMAGE_BYTES / 1000} KB images, row groups of 100): ${fmt(records / seconds)} records/s, ${(size / 1e6 / seconds).toFixed(0)} MB/s`,
    );
    console.log(
      `peak resident ${mb(peak)} MB (${mb(baseline)} MB before reading; target <= 300 MB): ${peak <= 300e6 ? 'met' : 'NOT met'}`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

/** Every item the source yields, counted; the records are dropped as they come. */
async function readAll(source: DataSourceSpec): Promise<{ records: number; seconds: number }> {
  const module = await dataSourceFor(source);
  const started = performance.now();
  let records = 0;
  for await (const item of module.read(
    { source, filter: DEFAULT_LABEL_FILTER, columns: { group: 'patient_id' } },
    { cacheDir: '', baseDir: projectRoot() },
  )) {
    if (!item.ok) throw new Error(item.error.message);
    records++;
  }
  return { records, seconds: (performance.now() - started) / 1000 };
}

function fmt(rate: number): string {
  return Math.round(rate).toLocaleString('en-US').padStart(9);
}
