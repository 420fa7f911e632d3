import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import type { Pipeline, PipelineStage } from '../../runner/pipeline.ts';
import { ok } from '../../runner/result.ts';
import { defineStageKind } from '../../runner/stage-kind.ts';
import { evaluateKind } from '../../stages/evaluate/kind.ts';
import { seedSchema } from '../../stages/shared/spec-fragments.ts';
import { specBaseSchema } from '../../stages/spec-base-schema.ts';

/**
 * The study's chain with the study's kind names (curate, split, subset, train, generate,
 * evaluate) but quick implementations, so report tests run the real runner over a real store
 * in a second. Each writes what the real stage promises the report: subset's
 * `subset/images` metric, and evaluate's `eval/...` metrics, metrics.json and scored.jsonl.
 * The scores are a fixed function of supervision and train size, so tests know the best
 * row of each column: QApairs leads BLEU and ROUGE, QaCaption-all leads accuracy, and the
 * baseline has the best BERTScore (as the paper's untuned model nearly does).
 */
export const TRAIN_IMAGES_AVAILABLE = 10;
export const TEST_ITEMS = 5;
const KINDS_OF_QUESTION = ['general', 'dataset'] as const;

const dataSchema = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
});

const curateKind = defineStageKind<{ seed: number }>({
  name: 'curate',
  version: 1,
  description: 'writes test images',
  inputs: [],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: { type: 'object', properties: { seed: seedSchema } },
  async run(ctx) {
    await mkdir(join(ctx.outDir, 'images'), { recursive: true });
    for (let i = 0; i < TEST_ITEMS; i++) {
      await writeFile(join(ctx.outDir, 'images', `img${i}.jpg`), tinyJpeg(i));
    }
    return ok({ metrics: { 'curate/images': TEST_ITEMS } });
  },
});

const splitKind = defineStageKind<{ seed: number }>({
  name: 'split',
  version: 1,
  description: 'writes the test questions',
  inputs: ['records'],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: { type: 'object', properties: { seed: seedSchema } },
  async run(ctx) {
    const lines = Array.from({ length: TEST_ITEMS }, (_, i) =>
      JSON.stringify({
        id: `q${i}`,
        question: `What does lesion ${i} suggest? <script>alert(1)</script>`,
        reference: `Impetigo with honey-coloured crusts, case ${i}.`,
        kind: KINDS_OF_QUESTION[i % 2],
        image: `images/img${i}.jpg`,
      }),
    );
    await writeFile(join(ctx.outDir, 'test.jsonl'), `${lines.join('\n')}\n`);
    return ok({});
  },
});

const subsetKind = defineStageKind<{ data: { train_size: number | 'all' } }>({
  name: 'subset',
  version: 1,
  description: 'counts the training images',
  inputs: ['split'],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: {
      data: dataSchema({
        train_size: { anyOf: [{ type: 'integer', minimum: 1 }, { const: 'all' }], default: 'all' },
      }),
    },
  },
  async run(ctx) {
    const size = ctx.params.data.train_size;
    const images = size === 'all' ? TRAIN_IMAGES_AVAILABLE : size;
    await writeFile(join(ctx.outDir, 'subset.json'), JSON.stringify({ images }));
    return ok({ metrics: { 'subset/images': images, 'subset/qa': images * 3 } });
  },
});

const supervisionSchema = { enum: ['qa', 'caption', 'qa_caption'], default: 'qa' };

const trainKind = defineStageKind<{ data: { supervision: string } }>({
  name: 'train',
  version: 1,
  description: 'writes an adapter note',
  inputs: ['train_set'],
  deterministic: false,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: { data: dataSchema({ supervision: supervisionSchema }) },
  },
  async run(ctx) {
    const { images } = JSON.parse(
      await readFile(join(ctx.inputs.train_set?.dir ?? '', 'subset.json'), 'utf8'),
    ) as { images: number };
    await writeFile(
      join(ctx.outDir, 'adapter.json'),
      JSON.stringify({ supervision: ctx.params.data.supervision, images }),
    );
    return ok({});
  },
});

const generateKind = defineStageKind<Record<string, never>>({
  name: 'generate',
  version: 1,
  description: 'answers the test questions',
  inputs: ['test_set', 'images'],
  optionalInputs: ['adapter'],
  deterministic: false,
  resources: { cpu: 1 },
  paramsSchema: { type: 'object', properties: {} },
  async run(ctx) {
    const adapter = ctx.inputs.adapter
      ? (JSON.parse(await readFile(join(ctx.inputs.adapter.dir, 'adapter.json'), 'utf8')) as {
          supervision: string;
          images: number;
        })
      : undefined;
    const items = (await readFile(join(ctx.inputs.test_set?.dir ?? '', 'test.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const lines = items.map((item) =>
      JSON.stringify({
        ...item,
        image: join(ctx.inputs.images?.dir ?? '', item.image ?? ''),
        prediction: adapter
          ? `${adapter.supervision} model (${adapter.images} images) says impetigo & "crusts" for ${item.id}`
          : `The untuned model describes a red patch for ${item.id}.`,
      }),
    );
    await writeFile(join(ctx.outDir, 'predictions.jsonl'), `${lines.join('\n')}\n`);
    await writeFile(
      join(ctx.outDir, 'model.json'),
      JSON.stringify(adapter ?? { supervision: 'none', images: 0 }),
    );
    return ok({});
  },
});

/** Scores as fractions (sacreBLEU 0..100), chosen so each column has a known best row. */
export function fakeScores(supervision: string, images: number): Record<string, number> {
  if (supervision === 'none') {
    return {
      accuracy: 0.62,
      bleu: 0.0359,
      rouge1: 0.2293,
      rougeL: 0.191,
      bertscore_f1: 0.95,
    };
  }
  const text = { qa: 0.4, caption: 0.28, qa_caption: 0.34 }[supervision] ?? 0.3;
  const accuracy = { qa: 0.6, caption: 0.58, qa_caption: 0.61 }[supervision] ?? 0.5;
  return {
    accuracy: accuracy + images / 100,
    bleu: text / 4 + images / 1000,
    rouge1: text + images / 500,
    rougeL: text - 0.05 + images / 500,
    bertscore_f1: 0.87 + text / 100,
  };
}

const evaluateTestKind = defineStageKind({
  ...evaluateKind,
  description: 'writes the evaluate contract: metrics, metrics.json, scored.jsonl',
  async run(ctx) {
    const model = JSON.parse(
      await readFile(join(ctx.inputs.predictions?.dir ?? '', 'model.json'), 'utf8'),
    ) as { supervision: string; images: number };
    const predictions = (
      await readFile(join(ctx.inputs.predictions?.dir ?? '', 'predictions.jsonl'), 'utf8')
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const s = fakeScores(model.supervision, model.images);
    const scored = predictions.map((p, i) => ({
      id: p.id,
      question: p.question,
      reference: p.reference,
      prediction: p.prediction,
      image: p.image,
      kind: p.kind,
      rougeL: s.rougeL,
      correct: i % 2 === 0,
    }));
    await writeFile(
      join(ctx.outDir, 'scored.jsonl'),
      `${scored.map((l) => JSON.stringify(l)).join('\n')}\n`,
    );
    const bertscore = ctx.params.eval.bertscore;
    await writeFile(
      join(ctx.outDir, 'metrics.json'),
      JSON.stringify({
        count: scored.length,
        bertscore: { model: bertscore.model, layer: bertscore.layer ?? 6, f1: s.bertscore_f1 },
        accuracy: { encoder: ctx.params.eval.encoder.model },
      }),
    );
    return ok({
      metrics: {
        'eval/accuracy': s.accuracy as number,
        'eval/accuracy_ci_low': (s.accuracy as number) - 0.05,
        'eval/accuracy_ci_high': (s.accuracy as number) + 0.05,
        'eval/bleu': s.bleu as number,
        'eval/sacrebleu': (s.bleu as number) * 100,
        'eval/rouge1': s.rouge1 as number,
        'eval/rouge2': (s.rouge1 as number) / 2,
        'eval/rougeL': s.rougeL as number,
        'eval/rougeLsum': s.rougeL as number,
        'eval/bertscore_precision': s.bertscore_f1 as number,
        'eval/bertscore_recall': s.bertscore_f1 as number,
        'eval/bertscore_f1': s.bertscore_f1 as number,
        'eval/answer_length_mean': 9,
        'eval/distinct_2': 0.8,
        'eval/repeated_ngram_share': 0.1,
        'eval/caption_leak_rate': model.supervision === 'caption' ? 0.2 : 0,
      },
      artifacts: ['metrics.json', 'scored.jsonl'],
    });
  },
});

/** Declares `train.method` (read by the pipeline, not by a stage); never part of a chain. */
export const trainMethodKind = defineStageKind<{ train: { method: string } }>({
  name: 'train-method',
  version: 1,
  description: 'declares train.method',
  inputs: [],
  deterministic: true,
  resources: {},
  paramsSchema: {
    type: 'object',
    properties: {
      train: {
        type: 'object',
        properties: { method: { enum: ['lora', 'none'], default: 'lora' } },
      },
    },
  },
});

export const reportTestPipeline: Pipeline = {
  kinds: [
    curateKind,
    splitKind,
    subsetKind,
    trainKind,
    generateKind,
    evaluateTestKind,
    trainMethodKind,
  ],
  baseSchema: specBaseSchema,
  stagesFor(spec) {
    const tuned = (spec.train as { method?: string } | undefined)?.method !== 'none';
    const stages: PipelineStage[] = [
      { id: 'curate', kind: 'curate', inputs: {} },
      { id: 'split', kind: 'split', inputs: { records: 'curate' } },
    ];
    if (tuned) {
      stages.push(
        { id: 'subset', kind: 'subset', inputs: { split: 'split' } },
        { id: 'train', kind: 'train', inputs: { train_set: 'subset' } },
        {
          id: 'generate',
          kind: 'generate',
          inputs: { test_set: 'split', images: 'curate', adapter: 'train' },
        },
      );
    } else {
      stages.push({
        id: 'generate',
        kind: 'generate',
        inputs: { test_set: 'split', images: 'curate' },
      });
    }
    stages.push({
      id: 'evaluate',
      kind: 'evaluate',
      inputs: { predictions: 'generate', distractors: 'split' },
    });
    return stages;
  },
};

export const REPORT_SPEC = `name: report-test
seed: 7
data:
  supervision: qa
  train_size: all
train:
  method: lora
eval:
  bertscore:
    model: all-MiniLM-L6-v2
  encoder:
    model: all-MiniLM-L6-v2
sweep:
  name: "{data.supervision}-{data.train_size}"
  data.supervision: [qa, caption, qa_caption]
  data.train_size: [4, 8, all]
  include:
    - name: baseline-untuned
      set:
        train.method: none
`;

/** A 16x16 JPEG with a colour per item, so the report's images differ visibly. */
function tinyJpeg(index: number): Buffer {
  const width = 16;
  const height = 16;
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = 180 + index * 15;
    data[p * 4 + 1] = 60 + (p % width) * 8;
    data[p * 4 + 2] = 40;
    data[p * 4 + 3] = 255;
  }
  return Buffer.from(jpeg.encode({ data, width, height }, 90).data);
}
