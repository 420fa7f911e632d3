import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { type BertScorer, createBertScorer } from '../../stages/evaluate/encoders/bert-score.ts';
import { encoderPreflight } from '../../stages/evaluate/encoders/encoder-preflight.ts';
import { loadEncoderTokenizer } from '../../stages/evaluate/encoders/encoder-tokenizer.ts';
import {
  type EncoderModelFiles,
  ensureEncoderModel,
} from '../../stages/evaluate/encoders/ensure-encoder-model.ts';
import { type HubTestServer, startHubTestServer } from '../data/hub-test-server.ts';

/** [precision, recall, f1] */
type Triple = [number, number, number];

/**
 * Written by scripts/encoders/make-roberta-golden.ts: bert_score 0.3.13 on transformers 4.57 (in
 * its own venv) over the tiny random-weight RoBERTa fixture, in roberta-large's tokenizer format.
 */
interface Golden {
  model: string;
  layer: number;
  weightsSha256: string;
  pairs: {
    candidate: string;
    reference: string;
    candidateIds: number[];
    referenceIds: number[];
    idfOff: Triple;
    idfOn: Triple;
  }[];
}

const FIXTURE = join(projectRoot(), 'tests/fixtures/encoders/tiny-roberta');
const golden = JSON.parse(
  readFileSync(join(projectRoot(), 'tests/fixtures/encoders/bertscore-roberta.json'), 'utf8'),
) as Golden;
const candidates = golden.pairs.map((p) => p.candidate);
const references = golden.pairs.map((p) => p.reference);
const COMMIT = 'b0b0000000000000000000000000000000000002';
const TOKEN = 'hf_roberta_test';
/** float32 hidden states from onnxruntime against torch's, through cosines and a greedy max. */
const TOLERANCE = 1e-6;

const modelsDir = mkdtempSync(join(tmpdir(), 'dermatune-roberta-'));
let hub: HubTestServer;
let scorer: BertScorer;
let files: EncoderModelFiles;
const lines: string[] = [];

/** The first run exports with torch in the project's venv (installed by the global setup). */
const EXPORT_TIMEOUT = 10 * 60_000;

function env(): Record<string, string> {
  return { HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN };
}

beforeAll(async () => {
  // The fixture as a gated model repository: the weights in LFS behind the CDN origin.
  hub = await startHubTestServer({
    repo: golden.model,
    repoType: 'model',
    commit: COMMIT,
    branches: ['main'],
    root: FIXTURE,
    token: TOKEN,
    gated: true,
    smallFiles: ['config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'merges.txt'],
  });
  const created = await createBertScorer({
    model: golden.model,
    layer: golden.layer,
    modelsDir,
    env: env(),
    log: (line) => lines.push(line),
  });
  if (!created.ok) throw new Error(`${created.error.reason}: ${created.error.message}`);
  scorer = created.value;
  const ensured = await ensureEncoderModel(golden.model, {
    modelsDir,
    env: env(),
    layers: golden.layer,
  });
  if (!ensured.ok) throw new Error(ensured.error.message);
  files = ensured.value;
}, EXPORT_TIMEOUT);

afterAll(async () => {
  await scorer?.release();
  await hub?.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

function worstDifference(
  ours: { precision: number[]; recall: number[]; f1: number[] },
  run: 'idfOff' | 'idfOn',
): number {
  expect(ours.f1).toHaveLength(golden.pairs.length);
  let worst = 0;
  golden.pairs.forEach((pair, k) => {
    const mine = [ours.precision[k], ours.recall[k], ours.f1[k]];
    pair[run].forEach((theirs, m) => {
      const difference = Math.abs((mine[m] ?? Number.NaN) - theirs);
      worst = Number.isNaN(difference) ? Number.NaN : Math.max(worst, difference);
    });
  });
  return worst;
}

describe('BERTScore on a RoBERTa downloaded from the hub protocol (tiny fixture)', () => {
  test('set-up downloaded the pinned commit, exported every hidden state and recorded the commit', () => {
    // Exported up to the layer BERTScore reads (3 of 4), as bert_score truncates the model.
    expect(files.dir).toBe(
      join(
        modelsDir,
        `hub-dermatune-test--tiny-roberta-upto${golden.layer}-${COMMIT.slice(0, 12)}`,
      ),
    );
    expect(files.manifest).toMatchObject({
      modelId: golden.model,
      revision: COMMIT,
      modelType: 'roberta',
      numLayers: golden.layer,
      modelNumLayers: 4,
      hiddenSize: 16,
      sourceWeightsSha256: golden.weightsSha256,
    });
    expect(files.manifest.outputs).toHaveLength(golden.layer + 1);
    expect(lines.some((l) => l.startsWith(`downloading ${golden.model}@${COMMIT}`))).toBe(true);
    expect(scorer.layer).toBe(golden.layer);
  });

  test("tokenizes as bert_score does for RoBERTa: <s> ' '+text </s>, an empty text as <s> </s>", async () => {
    const tokenizer = await loadEncoderTokenizer(files.dir, files.manifest.modelType);
    expect([tokenizer.clsId, tokenizer.sepId, tokenizer.padId]).toEqual([0, 2, 1]);
    const mismatches = golden.pairs.filter(
      (p) =>
        JSON.stringify(tokenizer.encodeForBertScore(p.candidate)) !==
          JSON.stringify(p.candidateIds) ||
        JSON.stringify(tokenizer.encodeForBertScore(p.reference)) !==
          JSON.stringify(p.referenceIds),
    );
    expect(mismatches.map((p) => p.candidate)).toEqual([]);
  });

  test(`matches bert_score 0.3.13 within ${TOLERANCE} on every pair, idf off`, async () => {
    const result = await scorer.score(candidates, references);
    expect(worstDifference(result, 'idfOff')).toBeLessThanOrEqual(TOLERANCE);
    expect(result).toMatchObject({ layer: golden.layer, idf: false, model: golden.model });
  });

  test(`matches bert_score 0.3.13 within ${TOLERANCE} on every pair, idf on`, async () => {
    const result = await scorer.score(candidates, references, { idf: true });
    expect(worstDifference(result, 'idfOn')).toBeLessThanOrEqual(TOLERANCE);
  });

  test('an empty candidate scores 0 as in bert_score, and the golden file has such pairs', async () => {
    const empty = golden.pairs.filter((p) => p.candidate.trim() === '');
    expect(empty.length).toBeGreaterThan(0);
    for (const pair of empty) expect(pair.idfOff).toEqual([0, 0, 0]);
    const result = await scorer.score(
      empty.map((p) => p.candidate),
      empty.map((p) => p.reference),
    );
    expect(result.f1).toEqual(empty.map(() => 0));
  });

  test('a second set-up reuses the export: online it only asks the revision API', async () => {
    const before = hub.requests.length;
    const again = await ensureEncoderModel(golden.model, {
      modelsDir,
      env: env(),
      layers: golden.layer,
    });
    expect(again.ok && again.value.dir).toBe(files.dir);
    expect(hub.requests.slice(before).map((r) => r.url)).toEqual([
      `/api/models/${golden.model}/revision/main`,
    ]);
  });

  test('the preflight finds the export set up here, offline too', async () => {
    const params = {
      seed: 1,
      eval: {
        bleu: { smooth: false },
        rouge: { use_stemmer: false },
        bertscore: {
          model: golden.model,
          layer: golden.layer,
          rescale_with_baseline: false,
          idf: false,
        },
        encoder: { model: 'all-MiniLM-L6-v2' },
      },
    };
    const [check] = await encoderPreflight(params, { env: { HF_HUB_OFFLINE: '1' }, modelsDir });
    expect(check).toMatchObject({
      outcome: 'passed',
      detail: `set up locally at ${files.dir} (commit ${COMMIT})`,
    });
  });

  test('offline, the branch resolves to the commit set up before, without asking the hub', async () => {
    const before = hub.requests.length;
    const offline = await ensureEncoderModel(golden.model, {
      modelsDir,
      env: { HF_HUB_OFFLINE: '1', HF_ENDPOINT: hub.endpoint },
      layers: golden.layer,
    });
    expect(offline.ok && offline.value.dir).toBe(files.dir);
    expect(hub.requests.length).toBe(before);
  });
});
