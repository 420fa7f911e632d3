import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { ensureStandInModel, modelsDir } from '../../stages/model-worker/stand-in-model.ts';
import { ensureWorkerEnv } from '../../stages/model-worker/worker-client.ts';

/**
 * Fixture-like training data made on the spot: four small PNG "lesion" images (a disc on a
 * skin-toned field, one colour per condition) and twelve QA pairs with captions, in the record
 * shape the split/subset stages write.
 */

export interface WorkerFixture {
  dir: string;
  trainFile: string;
  testFile: string;
  records: FixtureRecord[];
}

export interface FixtureRecord {
  id: string;
  image: string;
  question: string;
  answer: string;
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
  await mkdir(join(dir, 'images'));
  const records: FixtureRecord[] = [];
  for (const [index, condition] of CONDITIONS.entries()) {
    const image = `images/${condition.name}.png`;
    await writeFile(join(dir, image), discPng(72, 56, condition.disc, 10 + index * 4));
    for (const [q, question] of QUESTIONS.entries()) {
      records.push({
        id: `${condition.name}-${q}`,
        image,
        question,
        answer: condition.answer,
        caption: `Figure ${index + 1}. Clinical photograph of ${condition.name} on the forearm.`,
      });
    }
  }
  const trainFile = join(dir, 'train.jsonl');
  const testFile = join(dir, 'test.jsonl');
  await writeFile(trainFile, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const tests = CONDITIONS.map((_, i) => records[i * QUESTIONS.length]);
  await writeFile(testFile, tests.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return { dir, trainFile, testFile, records };
}

/** The venv interpreter and the stand-in model, created on first use (minutes), reused after. */
export async function workerReady(): Promise<{ python: string; modelsDir: string }> {
  const python = await ensureWorkerEnv();
  if (!python.ok) throw new Error(python.error.message);
  const model = await ensureStandInModel(python.value);
  if (!model.ok) throw new Error(model.error.message);
  return { python: python.value, modelsDir: modelsDir() };
}

/** A minimal RGB PNG: a disc of one colour on a skin-toned background. */
function discPng(width: number, height: number, disc: readonly number[], radius: number): Buffer {
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
