import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import { curateRecords } from '../../stages/curate/curate.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import type { ColumnMapping } from '../../stages/sources/column-mapping.ts';
import { dataSourceFor } from '../../stages/sources/data-source.ts';

const VQA = resolve('tests/fixtures/vqa-set/vqa.parquet');

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'dermatune-parquet-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function curate(paths: string[], columns?: ColumnMapping) {
  const source = { type: 'parquet', paths } as const;
  const module = await dataSourceFor(source);
  const out = join(work, 'out');
  const result = await curateRecords(
    module.read(
      { source, filter: DEFAULT_LABEL_FILTER, ...(columns ? { columns } : {}) },
      { cacheDir: '', baseDir: projectRoot() },
    ),
    out,
    { missingGroup: module.missingGroup },
  );
  const records = (await readFile(join(out, 'records.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CuratedRecord);
  return { result, records, out };
}

describe('a Parquet source', () => {
  it('reads every row group of a file whose images are the hub image struct, keeping each QA pair', async () => {
    const { result, records, out } = await curate([VQA], {
      group: 'patient_id',
      label: 'diagnosis',
    });
    expect(result.ok && [result.value.read, result.value.kept, result.value.dropped]).toEqual([
      48,
      48,
      {},
    ]);
    const first = records[0] as CuratedRecord;
    expect(first).toMatchObject({
      question: 'What condition does this photograph most likely show?',
      caption: '',
      shard: 'tests/fixtures/vqa-set/vqa.parquet',
    });
    // The image bytes came out of the struct's binary field and decode as a JPEG (curate checks).
    expect((await readFile(join(out, first.image))).subarray(0, 2)).toEqual(
      Buffer.from([0xff, 0xd8]),
    );
    expect(new Set(records.map((r) => r.key)).size).toBe(48);
  });

  it('reads the files in order, one after another', async () => {
    const second = join(work, 'second.parquet');
    await copyFile(VQA, second);
    const { result } = await curate([VQA, second]);
    // The same ids again in the second file are duplicates: dropped and counted, not kept twice.
    expect(
      result.ok && [
        result.value.read,
        result.value.kept,
        result.value.dropped,
        result.value.shards,
      ],
    ).toEqual([96, 48, { 'duplicate-key': 48 }, 2]);
  });

  it('refuses a file that is not Parquet with exit-2 wording: which file and what it is', async () => {
    const fake = join(work, 'fake.parquet');
    await writeFile(fake, 'id,image\n1,a.jpg\n');
    const { result } = await curate([fake]);
    expect(result.ok ? undefined : result.error).toMatchObject({
      reason: 'unusable-source',
      setting: 'data.source.paths',
      message: expect.stringMatching(new RegExp(`^${fake}: not a Parquet file \\(.+\\)$`)),
    });
  });

  it('names the nearest real column for a mapped one the file lacks', async () => {
    const { result } = await curate([VQA], { group: 'patient' });
    expect(result.ok ? undefined : result.error.message).toBe(
      'tests/fixtures/vqa-set/vqa.parquet has no column "patient"; did you mean "patient_id"? (its columns: image, id, question, answer, patient_id, diagnosis)',
    );
  });
});
