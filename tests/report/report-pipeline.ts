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
        key: `img${i}`,
        question_id: 'q1',
        question: `What does lesion ${i} suggest? <script>alert(1)</script>`,
        answer: `Impetigo with honey-coloured crusts, case ${i}.`,
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
    // As the model worker writes them: the test record as given (image relative to the
    // `images` input), plus id, prediction, reference and timing.
    const lines = items.map((item) =>
      JSON.stringify({
        ...item,
        id: `${item.key}:${item.question_id}`,
        reference: item.answer,
        timing: { seconds: 0.1 },
        prediction: adapter
          ? `${adapter.supervision} model (${adapter.images} images) says impetigo & "crusts" for ${item.key}:${item.question_id}`
          : `The untuned model describes a red patch for ${item.key}:${item.question_id}.`,
      }),
    );
    await writeFile(join(ctx.outDir, 'predictions.jsonl'), `${lines.join('\n')}\n`);
    await writeFile(
      join(ctx.outDir, 'model.json'),
      JSON.stringify({
        ...(adapter ?? { supervision: 'none', images: 0 }),
        imageRoot: ctx.inputs.images?.dir,
      }),
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

/**
 * Tuned variants get the evaluate stage's output as stages/evaluate/run-evaluate.ts writes it
 * (metric names without the `eval/` prefix, metrics.json, examples.jsonl with scores only);
 * the baseline gets the report contract's other accepted shape (`eval/` names, scored.jsonl
 * carrying question, answer and an absolute image path), so one sweep covers both readers.
 */
const evaluateTestKind = defineStageKind({
  ...evaluateKind,
  description: 'writes what the evaluate stage writes: metrics, metrics.json, per-item scores',
  async run(ctx) {
    const dir = ctx.inputs.predictions?.dir ?? '';
    const model = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
      supervision: string;
      images: number;
      imageRoot: string;
    };
    const predictions = (await readFile(join(dir, 'predictions.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const s = fakeScores(model.supervision, model.images) as Record<
      'accuracy' | 'bleu' | 'rouge1' | 'rougeL' | 'bertscore_f1',
      number
    >;
    const metrics: Record<string, number> = {
      count: predictions.length,
      accuracy: s.accuracy,
      accuracy_ci_low: s.accuracy - 0.05,
      accuracy_ci_high: s.accuracy + 0.05,
      bleu: s.bleu,
      sacrebleu: s.bleu * 100,
      rouge1: s.rouge1,
      rouge2: s.rouge1 / 2,
      rougeL: s.rougeL,
      rougeLsum: s.rougeL,
      bertscore_precision: s.bertscore_f1,
      bertscore_recall: s.bertscore_f1,
      bertscore_f1: s.bertscore_f1,
      length_words_mean: 9,
      distinct_2: 0.8,
      rep_2: 0.1,
      caption_leak_rate: model.supervision === 'caption' ? 0.2 : 0,
    };
    const bertscore = ctx.params.eval.bertscore;
    await writeFile(
      join(ctx.outDir, 'metrics.json'),
      JSON.stringify({
        count: predictions.length,
        bertscore: {
          model: bertscore.model,
          layer: bertscore.layer ?? 6,
          idf: false,
          rescaled: false,
          f1: s.bertscore_f1,
        },
        accuracy: { encoder: ctx.params.eval.encoder.model },
      }),
    );
    const baseline = model.supervision === 'none';
    const perItem = predictions.map((p, i) => ({
      id: p.id,
      ...(baseline
        ? {
            question: p.question,
            reference: p.reference,
            prediction: p.prediction,
            image: join(model.imageRoot, p.image ?? ''),
            kind: p.kind,
          }
        : {}),
      rouge1: s.rouge1,
      rougeL: s.rougeL,
      bertscore_f1: s.bertscore_f1,
      caption_leaks: [],
      predicted_option: i % 4,
      correct: i % 2 === 0,
    }));
    await writeFile(
      join(ctx.outDir, baseline ? 'scored.jsonl' : 'examples.jsonl'),
      `${perItem.map((l) => JSON.stringify(l)).join('\n')}\n`,
    );
    return ok({
      metrics: baseline
        ? Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval/${k}`, v]))
        : metrics,
      artifacts: ['metrics.json'],
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
