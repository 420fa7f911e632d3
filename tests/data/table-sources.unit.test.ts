import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import type { CurateContext } from '../../stages/curate/contract.ts';
import { curateRecords } from '../../stages/curate/curate.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import { runCurate } from '../../stages/curate/run-curate.ts';
import type { ColumnMapping } from '../../stages/sources/column-mapping.ts';
import { type DataSourceSpec, dataSourceFor } from '../../stages/sources/data-source.ts';

const OWN_IMAGES = resolve('tests/fixtures/own-images');
const SCORE_ONLY = resolve('tests/fixtures/score-only');
const PHOTO = join(OWN_IMAGES, 'photos', 'PMC0000101_F1.jpg');

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'dermatune-table-sources-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function curate(source: DataSourceSpec, columns?: ColumnMapping) {
  const module = await dataSourceFor(source);
  const settings = { source, filter: DEFAULT_LABEL_FILTER, ...(columns ? { columns } : {}) };
  const out = join(work, 'out');
  const result = await curateRecords(
    module.read(settings, { cacheDir: join(work, 'cache'), baseDir: projectRoot() }),
    out,
    { missingGroup: module.missingGroup },
  );
  const lines = async (name: string) =>
    (await readFile(join(out, name), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  return {
    result,
    records: (await lines('records.jsonl')) as CuratedRecord[],
    dropped: (await lines('dropped.jsonl')) as { key: string; shard: string; reason: string }[],
  };
}

async function manifest(name: string, text: string): Promise<string> {
  const path = join(work, name);
  await writeFile(path, text);
  return path;
}

describe('an image folder in the hub convention', () => {
  it('keeps each photograph with its caption, patient and diagnosis, and drops the row whose photograph is missing', async () => {
    const { result, records, dropped } = await curate(
      { type: 'imagefolder', path: OWN_IMAGES },
      { caption: 'text', group: 'patient_id', label: 'diagnosis' },
    );
    expect(result.ok && [result.value.read, result.value.kept, result.value.dropped]).toEqual([
      50,
      49,
      { 'missing-image': 1 },
    ]);
    expect(dropped).toEqual([
      expect.objectContaining({
        key: 'photos/not-copied',
        shard: 'tests/fixtures/own-images/metadata.csv:51',
        reason: 'missing-image',
        detail: 'no file photos/not-copied.jpg',
      }),
    ]);
    expect(records[0]).toMatchObject({
      key: 'photos/PMC0000101_F1',
      image: 'images/photos_PMC0000101_F1.jpg',
      caption:
        'Flaccid bullae and shallow erosions with a collarette of scale on the left cheek and chin of a four-year-old boy.',
      article_id: 'patient-01',
      label: 'Bacterial Infections',
      shard: 'tests/fixtures/own-images/metadata.csv',
    });
  });

  it('names the column it has nearest to a mapped one that is not there', async () => {
    const { result } = await curate(
      { type: 'imagefolder', path: OWN_IMAGES },
      { caption: 'txet', group: 'patient_id' },
    );
    expect(result.ok ? undefined : result.error).toEqual({
      reason: 'unusable-source',
      message:
        'tests/fixtures/own-images/metadata.csv has no column "txet"; did you mean "text"? (its columns: file_name, text, patient_id, diagnosis)',
      setting: 'data.columns.caption',
    });
  });

  it('refuses a folder without metadata, saying which files it looked for', async () => {
    const { result } = await curate({ type: 'imagefolder', path: work });
    expect(result.ok ? undefined : result.error.message).toBe(
      `${work} has no metadata.jsonl or metadata.csv naming its images`,
    );
  });
});

describe('a JSONL or CSV manifest', () => {
  it('reads a test set that brings its QA pairs and no captions', async () => {
    const { result, records } = await curate(
      { type: 'manifest', path: join(SCORE_ONLY, 'manifest.jsonl') },
      { group: 'case_id', label: 'diagnosis' },
    );
    expect(result.ok && [result.value.kept, result.value.articles]).toEqual([32, 8]);
    expect(records[0]).toMatchObject({
      key: 'PMC0000101_F1-q1',
      caption: '',
      question: 'What condition does this photograph most likely show?',
      answer: 'The appearance is most consistent with impetigo.',
      article_id: 'patient-01',
    });
  });

  it('refuses a CSV with a quote left open, naming the file and the line it opened on', async () => {
    const path = await manifest(
      'broken.csv',
      `image,caption,group\n${PHOTO},fine,a\n${PHOTO},"never closed,b\n${PHOTO},x,c\n`,
    );
    const { result } = await curate({ type: 'manifest', path });
    expect(result.ok ? undefined : result.error.message).toBe(
      `${path}:3: a double quote opened here is never closed`,
    );
  });

  it('refuses a JSONL line that is not JSON, naming the line', async () => {
    const path = await manifest('bad.jsonl', `{"image": "${PHOTO}", "caption": "a"}\n{"image": \n`);
    const { result } = await curate({ type: 'manifest', path });
    expect(result.ok ? undefined : result.error.message).toBe(`${path}:2: the line is not JSON`);
  });

  it('drops and counts a file that is not an image, a repeated id and an empty group, keeping the rest', async () => {
    await mkdir(join(work, 'img'));
    await copyFile(PHOTO, join(work, 'img', 'good.jpg'));
    await writeFile(join(work, 'img', 'text.jpg'), 'this is not a JPEG');
    const path = await manifest(
      'm.csv',
      [
        'id,image,caption,patient',
        'a,img/good.jpg,a good one,p1',
        'b,img/text.jpg,not an image,p2',
        'a,img/good.jpg,the same id again,p3',
        'c,img/good.jpg,no patient,',
        'd,img/good.jpg,another good one,p4',
      ].join('\n'),
    );
    const { result, records, dropped } = await curate(
      { type: 'manifest', path },
      { id: 'id', group: 'patient' },
    );
    expect(result.ok && result.value.dropped).toEqual({
      'not-an-image': 1,
      'duplicate-key': 1,
      'missing-group': 1,
    });
    expect(records.map((r) => r.key)).toEqual(['a', 'd']);
    expect(dropped.map((d) => [d.key, d.shard, d.reason])).toEqual([
      ['b', `${path}:3`, 'not-an-image'],
      ['a', `${path}:4`, 'duplicate-key'],
      ['c', `${path}:5`, 'missing-group'],
    ]);
  });

  it('keys the content, not the place: editing a caption makes a new key, moving the folder does not', async () => {
    const module = await dataSourceFor({ type: 'manifest', path: '' });
    await mkdir(join(work, 'a', 'img'), { recursive: true });
    await copyFile(PHOTO, join(work, 'a', 'img', 'p.jpg'));
    await writeFile(join(work, 'a', 'm.csv'), 'image,caption\nimg/p.jpg,first\n');
    const key = async (path: string) => {
      const pinned = await module.fingerprint(
        { source: { type: 'manifest', path }, filter: DEFAULT_LABEL_FILTER },
        { cacheDir: '', baseDir: projectRoot() },
      );
      return pinned.ok ? pinned.value : pinned.error;
    };
    const before = await key(join(work, 'a', 'm.csv'));
    await mkdir(join(work, 'b'));
    await copyFile(join(work, 'a', 'm.csv'), join(work, 'b', 'm.csv'));
    await mkdir(join(work, 'b', 'img'));
    await copyFile(PHOTO, join(work, 'b', 'img', 'p.jpg'));
    expect(await key(join(work, 'b', 'm.csv'))).toEqual(before);
    await writeFile(join(work, 'b', 'm.csv'), 'image,caption\nimg/p.jpg,second\n');
    expect(await key(join(work, 'b', 'm.csv'))).not.toEqual(before);
  });
});

describe('the curate stage on a table source', () => {
  it('says in its log how many rows each reason dropped, naming the first few with their rows', async () => {
    const lines: string[] = [];
    const ctx = {
      params: {
        data: {
          source: { type: 'imagefolder', path: OWN_IMAGES },
          columns: { caption: 'text', group: 'patient_id' },
          filter: DEFAULT_LABEL_FILTER,
        },
      },
      inputs: {},
      outDir: join(work, 'stage'),
      cacheDir: join(work, 'cache'),
      signal: new AbortController().signal,
      report: (event: { type: string; message?: string }) => {
        if (event.type === 'log' && event.message) lines.push(event.message);
      },
    } as unknown as CurateContext;
    const result = await runCurate(ctx);
    expect(result.ok && result.value.metrics?.['curate/dropped/missing-image']).toBe(1);
    expect(lines).toContain(
      'dropped 1 missing-image (photos/not-copied at tests/fixtures/own-images/metadata.csv:51); all listed in dropped.jsonl',
    );
  });
});
