import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defaultGenerateSettings,
  defaultTrainSettings,
} from '../../stages/model-worker/spec-defaults.ts';
import { runWorker } from '../../stages/model-worker/worker-client.ts';
import type {
  Supervision,
  TrainMetric,
  TrainSettings,
} from '../../stages/model-worker/worker-job.ts';
import {
  fullSizeCensus,
  type RealConfigVariant,
  realConfigModels,
  realConfigName,
} from './real-config-fixture.ts';
import { discPng } from './worker-fixture.ts';

/**
 * The worker on SmolVLM's real configuration (layers and widths cut down, everything else
 * SmolVLM's: 384 px tiles of 14 px patches, scale factor 3, 81 tokens a tile, 1536 px longest
 * edge, the real SmolLM2 tokenizer with SmolVLM's added tokens, both chat templates), with the
 * spec schema's defaults: image splitting on, images of three shapes, batches with padding.
 */
interface DumpedExample {
  source: 'qa' | 'caption';
  prompt: string;
  target: string;
  input_ids: number[];
  labels: number[];
  tokens: string[];
  image_tiles: number;
  truncated: boolean;
}

const IGNORE = -100;
const TURN_END: Record<RealConfigVariant, string> = {
  base: '<|endoftext|>',
  instruct: '<end_of_utterance>',
};
// 1536 px longest edge cut into 384 px tiles, plus the global image:
// square 4 x 4 + 1 = 17, 2:1 4 x 2 + 1 = 9, 3:5 3 x 4 + 1 = 13.
const IMAGES = [
  { name: 'square', width: 96, height: 96, tiles: 17 },
  { name: 'wide', width: 120, height: 60, tiles: 9 },
  { name: 'tall', width: 60, height: 100, tiles: 13 },
] as const;

let python: string;
let models: string;
let dir: string;
let trainFile: string;
let testFile: string;

beforeAll(async () => {
  ({ python, modelsDir: models } = await realConfigModels());
  dir = await mkdtemp(join(tmpdir(), 'dermatune-real-config-'));
  await mkdir(join(dir, 'images'));
  const rows = [];
  for (const [index, image] of IMAGES.entries()) {
    await writeFile(
      join(dir, 'images', `${image.name}.png`),
      discPng(image.width, image.height, [200, 40 + index * 60, 40], 20),
    );
    rows.push({
      key: `PMC10${index}_F1`,
      image: `images/${image.name}.png`,
      article_id: `PMC10${index}`,
      question: `What does the ${image.name} image show?`,
      answer: `Erythema with crusts, ${index + 1} lesions.`,
      caption: `Figure ${index + 1}. A ${image.name} clinical photograph of impetigo.`,
    });
  }
  trainFile = join(dir, 'train.jsonl');
  testFile = join(dir, 'test.jsonl');
  await writeFile(trainFile, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await writeFile(testFile, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}, 900_000);

async function examples(
  variant: RealConfigVariant,
  supervision: Supervision,
  lossOn: TrainSettings['loss_on'],
): Promise<DumpedExample[]> {
  const out = join(dir, `examples-${variant}-${supervision}-${lossOn}`);
  const done = await runWorker(
    {
      type: 'examples',
      output_dir: out,
      models_dir: models,
      model: { base: realConfigName(variant) },
      data: { train: trainFile, image_root: dir },
      supervision,
      seed: 1,
      train: defaultTrainSettings({ loss_on: lossOn }),
    },
    { python, logFile: join(dir, 'examples.log') },
  );
  if (!done.ok) throw new Error(JSON.stringify(done.error));
  return (await readFile(join(out, 'examples.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DumpedExample);
}

const text = (tokens: string[]) => tokens.join('').replaceAll('Ġ', ' ').replaceAll('Ċ', '\n');

/** First token index after "Assistant:", found by text, not by a token id. */
function assistantStart(example: DumpedExample): number {
  let seen = '';
  for (const [i, token] of example.tokens.entries()) {
    seen = text([seen, token]);
    if (seen.endsWith('\nAssistant:')) return i + 1;
  }
  throw new Error('no assistant turn');
}

/** Index range [first, last] of the image block: from the first to the last framing token. */
function imageBlock(example: DumpedExample): [number, number] {
  const first = example.tokens.indexOf('<fake_token_around_image>');
  const last = example.tokens.lastIndexOf('<fake_token_around_image>');
  expect(first).toBeGreaterThan(0);
  return [first, last];
}

describe.each(['base', 'instruct'] as const)('SmolVLM-%s’s real configuration', (variant) => {
  it('splits images of three shapes into 17, 9 and 13 tiles of 81 tokens, with row/col text the tokenizer splits', async () => {
    const dumped = await examples(variant, 'qa', 'assistant');
    expect(dumped.map((e) => e.image_tiles)).toEqual(IMAGES.map((i) => i.tiles));
    for (const example of dumped) {
      expect(example.truncated).toBe(false);
      expect(example.tokens.filter((t) => t === '<image>')).toHaveLength(81 * example.image_tiles);
      // The real tokenizer has no <row_1_col_1> or <global-img> token: they are plain text.
      expect(example.tokens).not.toContain('<row_1_col_1>');
      expect(example.tokens).not.toContain('<global-img>');
      const [first, last] = imageBlock(example);
      const block = text(example.tokens.slice(first, last + 1));
      expect(block).toContain('<row_1_col_1>');
      expect(block).toContain('<global-img>');
    }
    // A 17-tile image costs about 1,400 image tokens and fits the schema's 2048 default.
    expect(dumped[0]?.input_ids.length).toBeGreaterThan(1400);
    expect(dumped[0]?.input_ids.length).toBeLessThan(2048);
  });

  it.each(['qa', 'caption', 'qa_caption'] as const)(
    '%s: the label mask is the assistant turn exactly, token by token',
    async (supervision) => {
      const dumped = await examples(variant, supervision, 'assistant');
      const expected = { qa: [3, 0], caption: [0, 3], qa_caption: [3, 3] }[supervision];
      expect(dumped.filter((e) => e.source === 'qa')).toHaveLength(expected[0] ?? 0);
      expect(dumped.filter((e) => e.source === 'caption')).toHaveLength(expected[1] ?? 0);
      for (const example of dumped) {
        const start = assistantStart(example);
        const rendered = text(example.tokens);
        expect(rendered.startsWith('<|im_start|>User:')).toBe(true);
        expect(rendered.endsWith(`\nAssistant: ${example.target}${TURN_END[variant]}\n`)).toBe(
          true,
        );
        for (const [i, label] of example.labels.entries()) {
          expect(label, `${example.source} token ${i} ${example.tokens[i]}`).toBe(
            i < start ? IGNORE : example.input_ids[i],
          );
        }
        // What carries loss is the answer, the turn end and the newline: nothing else.
        const labelled = example.tokens.filter((_, i) => example.labels[i] !== IGNORE);
        expect(text(labelled)).toBe(` ${example.target}${TURN_END[variant]}\n`);
      }
    },
  );

  it('loss on all: the user turn’s text carries loss, the whole image block never', async () => {
    for (const example of await examples(variant, 'qa', 'all')) {
      const [first, last] = imageBlock(example);
      for (const [i, label] of example.labels.entries()) {
        const inImage = i >= first && i <= last;
        expect(label, `token ${i} ${example.tokens[i]}`).toBe(
          inImage ? IGNORE : example.input_ids[i],
        );
      }
    }
  });
});

describe('training and generating on the real configuration', () => {
  const losses = new Map<string, number[]>();

  async function train(variant: RealConfigVariant, supervision: Supervision): Promise<string> {
    const out = join(dir, `train-${variant}-${supervision}`);
    const seen: number[] = [];
    const done = await runWorker(
      {
        type: 'train',
        output_dir: out,
        models_dir: models,
        model: { base: realConfigName(variant) },
        data: { train: trainFile, image_root: dir },
        supervision,
        seed: 3,
        // Batches of two examples of different lengths: right padding, zero-filled tiles.
        train: defaultTrainSettings({ batch_size: 2, grad_accum: 1, max_steps: 2, device: 'cpu' }),
      },
      {
        python,
        logFile: join(dir, `train-${variant}.log`),
        onEvent: (event) => {
          if (event.event === 'metric') seen.push((event as TrainMetric).loss ?? Number.NaN);
        },
      },
    );
    if (!done.ok) throw new Error(JSON.stringify(done.error));
    losses.set(`${variant}-${supervision}`, seen);
    return join(out, 'adapter');
  }

  it.each([
    ['base', 'qa'],
    ['base', 'caption'],
    ['instruct', 'qa_caption'],
  ] as const)(
    '%s, %s: trains with batches of 2, then generates with the adapter',
    async (variant, supervision) => {
      const adapter = await train(variant, supervision);
      const steps = losses.get(`${variant}-${supervision}`) ?? [];
      expect(steps).toHaveLength(2);
      expect(steps.every((loss) => Number.isFinite(loss) && loss > 0)).toBe(true);
      const config = JSON.parse(await readFile(join(adapter, 'adapter_config.json'), 'utf8')) as {
        target_modules: string[] | string;
      };
      expect([...config.target_modules].sort()).toEqual(['q_proj', 'v_proj']);

      const out = join(dir, `generate-${variant}-${supervision}`);
      const done = await runWorker(
        {
          type: 'generate',
          output_dir: out,
          models_dir: models,
          model: { base: realConfigName(variant), adapter },
          data: { test: testFile, image_root: dir },
          generate: defaultGenerateSettings({ max_new_tokens: 4, batch_size: 2, device: 'cpu' }),
        },
        { python, logFile: join(dir, `generate-${variant}.log`) },
      );
      if (!done.ok) throw new Error(JSON.stringify(done.error));
      const predictions = (await readFile(join(out, 'predictions.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; prediction: string; reference: string });
      expect(predictions.map((p) => p.reference)).toEqual(
        IMAGES.map((_, index) => `Erythema with crusts, ${index + 1} lesions.`),
      );
      expect(predictions.every((p) => typeof p.prediction === 'string')).toBe(true);
    },
  );

  it('text_model scope: LoRA adapts only the language model', async () => {
    const out = join(dir, 'train-text-only');
    const done = await runWorker(
      {
        type: 'train',
        output_dir: out,
        models_dir: models,
        model: { base: realConfigName('base') },
        data: { train: trainFile, image_root: dir },
        supervision: 'qa',
        seed: 3,
        train: defaultTrainSettings({
          max_steps: 1,
          device: 'cpu',
          lora: { scope: 'text_model' },
        }),
      },
      { python, logFile: join(dir, 'train-text-only.log') },
    );
    if (!done.ok) throw new Error(JSON.stringify(done.error));
    const weights = await readFile(join(out, 'adapter', 'adapter_model.safetensors'));
    const header = JSON.parse(
      weights.subarray(8, 8 + Number(weights.readBigUInt64LE(0))).toString(),
    ) as Record<string, unknown>;
    const names = Object.keys(header).filter((n) => n !== '__metadata__');
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n.includes('text_model'))).toBe(true);
  });
});

describe('the full-size configuration on the meta device', () => {
  it('counts SmolVLM-Base’s 2,246,272,880 parameters, and shows which towers LoRA wraps', async () => {
    const census = await fullSizeCensus(python);
    expect(census.parameters).toBe(2_246_272_880);
    expect(Object.values(census.towers).reduce((a, b) => a + b, 0)).toBe(census.parameters);
    // The paper's target_modules [q_proj, v_proj] match in both towers: 27 SigLIP layers and
    // 24 Llama layers, two modules each.
    expect(census.lora.all).toEqual({
      modules: 102,
      vision_model: 54,
      text_model: 48,
      trainable: 2_568_192,
    });
    expect(census.lora.text_model).toEqual({
      modules: 48,
      vision_model: 0,
      text_model: 48,
      trainable: 1_572_864,
    });
  });
});
