/**
 * Writes the fixtures of the table sources (issue 27) from the synthetic BIOMEDICA fixture's skin
 * photographs, so their images decode and their captions read like the demo's, with the article
 * standing in for a patient and the article's category for a diagnosis:
 *
 * - `tests/fixtures/own-images/`: an image folder in the hub's imagefolder convention
 *   (`photos/*.jpg` + `metadata.csv`: file_name, text, patient_id, diagnosis), with one row naming
 *   a photograph that is not there, as a folder people keep by hand has.
 * - `tests/fixtures/score-only/`: a JSONL manifest of a small test set that brings its own QA
 *   pairs and diagnoses (`images/*.jpg` + `manifest.jsonl`).
 * - `tests/fixtures/vqa-set/`: a VQA-style Parquet file as the hub's `datasets` writes one (the
 *   image a `{bytes, path}` struct), two QA pairs a photograph, in row groups of 16 rows;
 *   written by scripts/write_parquet.py with the project's venv (pyarrow).
 *
 * SYNTHETIC DATA, like the fixture it comes from. Deterministic: rerunning leaves git clean.
 *
 *   node scripts/make-source-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LABEL_FILTER, judgeLabels } from '../stages/biomedica/label-filter.ts';
import { findCategory } from '../stages/shared/categories.ts';
import { fixtureShards } from './make-fixture.ts';
import { fixtureArticles } from './make-fixture-articles.ts';

export interface SkinPhoto {
  key: string;
  jpg: Buffer;
  caption: string;
  patient: string;
  diagnosis: string;
  /** The article's first keyword: the condition the photograph shows, in a few words. */
  condition: string;
}

/** The fixture's clinical skin photographs that have an image, in shard and key order. */
export function skinPhotos(): SkinPhoto[] {
  const articles = new Map(
    fixtureArticles.map((article, index) => [article.pmcid, { article, index }]),
  );
  const photos: SkinPhoto[] = [];
  for (const samples of fixtureShards().values()) {
    for (const sample of samples) {
      if (!sample.jpg || !judgeLabels(sample.metadata, DEFAULT_LABEL_FILTER).keep) continue;
      const found = articles.get(String(sample.metadata.article_accession_id));
      if (!found) continue;
      photos.push({
        key: sample.key,
        jpg: sample.jpg,
        caption: sample.caption,
        patient: `patient-${String(found.index + 1).padStart(2, '0')}`,
        diagnosis:
          findCategory(found.article.category)?.name ?? 'Unspecified or Cannot Be Determined',
        condition: found.article.keywords[0] ?? 'a skin condition',
      });
    }
  }
  return photos;
}

/** The two questions every photograph of a QA fixture gets, with answers from its article. */
export function photoQa(photo: SkinPhoto): { question: string; answer: string }[] {
  return [
    {
      question: 'What condition does this photograph most likely show?',
      answer: `The appearance is most consistent with ${photo.condition}.`,
    },
    { question: 'Describe the lesion shown in the image.', answer: photo.caption },
  ];
}

export async function writeSourceFixtures(root: string): Promise<void> {
  await writeTextFixtures(root);
  await writeVqaSet(join(root, 'vqa-set'), skinPhotos().slice(16, 40));
}

/** The fixtures that need no Python: the image folder and the manifest. */
export async function writeTextFixtures(root: string): Promise<void> {
  const photos = skinPhotos();
  await writeImageFolder(join(root, 'own-images'), photos);
  await writeScoreOnly(join(root, 'score-only'), photos.slice(0, 16));
}

async function writeVqaSet(dir: string, photos: SkinPhoto[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const rows = photos.flatMap((photo) =>
    photoQa(photo).map((qa, index) =>
      JSON.stringify({
        image_base64: photo.jpg.toString('base64'),
        image_name: `${photo.key}.jpg`,
        id: `${photo.key}-q${index + 1}`,
        question: qa.question,
        answer: qa.answer,
        patient_id: photo.patient,
        diagnosis: photo.diagnosis,
      }),
    ),
  );
  const python = fileURLToPath(new URL('../.dermatune/venv/bin/python', import.meta.url));
  const script = fileURLToPath(new URL('write_parquet.py', import.meta.url));
  execFileSync(python, [script, join(dir, 'vqa.parquet'), '16'], { input: `${rows.join('\n')}\n` });
}

async function writeImageFolder(dir: string, photos: SkinPhoto[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const lines = ['file_name,text,patient_id,diagnosis'];
  for (const photo of photos) {
    await put(join(dir, 'photos', `${photo.key}.jpg`), photo.jpg);
    lines.push(
      [`photos/${photo.key}.jpg`, photo.caption, photo.patient, photo.diagnosis]
        .map(csvField)
        .join(','),
    );
  }
  // A row whose photograph was never copied in: dropped and counted, not the whole folder.
  lines.push(
    [
      'photos/not-copied.jpg',
      'A photograph that was never copied in.',
      'patient-99',
      'Bacterial Infections',
    ]
      .map(csvField)
      .join(','),
  );
  await put(join(dir, 'metadata.csv'), `${lines.join('\n')}\n`);
}

async function writeScoreOnly(dir: string, photos: SkinPhoto[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const rows: string[] = [];
  for (const photo of photos) {
    await put(join(dir, 'images', `${photo.key}.jpg`), photo.jpg);
    photoQa(photo).forEach((qa, index) => {
      rows.push(
        JSON.stringify({
          id: `${photo.key}-q${index + 1}`,
          image: `images/${photo.key}.jpg`,
          question: qa.question,
          answer: qa.answer,
          case_id: photo.patient,
          diagnosis: photo.diagnosis,
        }),
      );
    });
  }
  await put(join(dir, 'manifest.jsonl'), `${rows.join('\n')}\n`);
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

async function put(file: string, content: Buffer | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeSourceFixtures(fileURLToPath(new URL('../tests/fixtures', import.meta.url)));
  console.log('wrote tests/fixtures/own-images, score-only and vqa-set');
}
