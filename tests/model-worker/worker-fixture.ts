import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import {
  ensureStandInModel,
  modelsDir,
  STAND_IN_NAME,
} from '../../stages/model-worker/stand-in-model.ts';
import { ensureWorkerEnv } from '../../stages/model-worker/worker-client.ts';

/**
 * Fixture-like training data made on the spot, laid out as the stages leave it: four small PNG
 * "lesion" images (a disc on a skin-toned field, one colour per condition) under `curate/images`,
 * twelve QA rows with captions in `subset/train.jsonl` and four in `split/test.jsonl`, with
 * image paths relative to the curate folder.
 */

export interface WorkerFixture {
  dir: string;
  /** Where the rows' relative image paths resolve (curate's output folder). */
  imageRoot: string;
  trainFile: string;
  testFile: string;
  records: FixtureRecord[];
}

/** The shape of generate-qa's rows, which split and subset pass on. */
export interface FixtureRecord {
  key: string;
  image: string;
  article_id: string;
  question: string;
  answer: string;
  kind: 'general' | 'grounded';
  question_id: string;
  caption: string;
}

const CONDITIONS = [
  { name: 'impetigo', disc: [214, 160, 60], answer: 'Impetigo with honey-coloured crusts.' },
  { name: 'cellulitis', disc: [200, 40, 40], answer: 'Cellulitis with warm spreading redness.' },
  { name: 'folliculitis', disc: [240, 230, 200], answer: 'Folliculitis with small pustules.' },
  { name: 'erysipelas', disc: [230, 60, 90], answer: 'Erysipelas with a sharp raised border.' },
] as const;

const QUESTIONS = [
  'What is the most likely diagnosis?',
  'What visual features are visible in this image?',
  'Which conditions could look similar?',
];

export async function makeWorkerFixture(): Promise<WorkerFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-worker-'));
  const imageRoot = join(dir, 'curate');
  await mkdir(join(imageRoot, 'images'), { recursive: true });
  await mkdir(join(dir, 'subset'));
  await mkdir(join(dir, 'split'));
  const records: FixtureRecord[] = [];
  for (const [index, condition] of CONDITIONS.entries()) {
    const image = `images/${condition.name}.png`;
    await writeFile(join(imageRoot, image), discPng(72, 56, condition.disc, 10 + index * 4));
    for (const [q, question] of QUESTIONS.entries()) {
      records.push({
        key: `PMC00${index}_F1`,
        image,
        article_id: `PMC00${index}`,
        question,
        answer: condition.answer,
        kind: q === 0 ? 'grounded' : 'general',
        question_id: `q${q}`,
        caption: `Figure ${index + 1}. Clinical photograph of ${condition.name} on the forearm.`,
      });
    }
  }
  const trainFile = join(dir, 'subset', 'train.jsonl');
  const testFile = join(dir, 'split', 'test.jsonl');
  await writeFile(trainFile, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const tests = CONDITIONS.map((_, i) => records[i * QUESTIONS.length]);
  await writeFile(testFile, tests.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return { dir, imageRoot, trainFile, testFile, records };
}

/** The venv interpreter and the stand-in model, created on first use (minutes), reused after. */
export async function workerReady(): Promise<{ python: string; modelsDir: string }> {
  // Test files run two at a time on a 2-core machine: one torch thread per worker avoids the
  // OpenMP spin-wait stalls that make oversubscribed runs many times slower.
  process.env.OMP_NUM_THREADS ??= '1';
  const python = await ensureWorkerEnv();
  if (!python.ok) throw new Error(python.error.message);
  const model = await ensureStandInModel(python.value, STAND_IN_NAME);
  if (!model.ok) throw new Error(model.error.message);
  return { python: python.value, modelsDir: modelsDir() };
}

/** A minimal RGB PNG: a disc of one colour on a skin-toned background. */
export function discPng(
  width: number,
  height: number,
  disc: readonly number[],
  radius: number,
): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3); // leading 0: filter type "none"
    for (let x = 0; x < width; x++) {
      const inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < radius ** 2;
      const [r, g, b] = inside ? disc : [224, 182, 150];
      row.writeUInt8(r ?? 0, 1 + x * 3);
      row.writeUInt8(g ?? 0, 2 + x * 3);
      row.writeUInt8(b ?? 0, 3 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type: truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
