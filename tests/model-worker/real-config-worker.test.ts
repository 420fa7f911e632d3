import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATE_OUTPUT } from '../../stages/generate/contract.ts';
import { EXAMPLES_OUTPUT } from '../../stages/model-worker/job-schema.ts';
import { trainMemoryChecks } from '../../stages/model-worker/memory-checks.ts';
import {
  defaultGenerateSettings,
  defaultTrainSettings,
} from '../../stages/model-worker/spec-defaults.ts';
import { runWorker } from '../../stages/model-worker/worker-client.ts';
import { workerDoctor } from '../../stages/model-worker/worker-doctor.ts';
import type {
  Supervision,
  TrainMetric,
  TrainSettings,
} from '../../stages/model-worker/worker-job.ts';
import { TRAIN_OUTPUT } from '../../stages/train/contract.ts';
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
// A worker run loads torch and the model; on a busy 2-core machine that alone can take a minute.
const WORKER_TIMEOUT = 600_000;
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

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function examples(
  variant: RealConfigVariant,
  supervision: Supervision,
  lossOn: TrainSettings['loss_on'],
): Promise<DumpedExample[]> {
  const out = join(dir, `examples-${variant}-${supervision}-${lossOn}`);
  const done = await runWorker(
    {
      type: 'examples',
      outputs: EXAMPLES_OUTPUT,
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
  return (await readFile(join(out, EXAMPLES_OUTPUT.examples), 'utf8'))
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

// One dump per template (qa_caption holds both kinds of example); the worker starts are what cost.
const dumps = new Map<string, Promise<DumpedExample[]>>();
function dump(variant: RealConfigVariant, lossOn: TrainSettings['loss_on'] = 'assistant') {
  const id = `${variant}-${lossOn}`;
  let pending = dumps.get(id);
  if (!pending) {
    pending = examples(variant, 'qa_caption', lossOn);
    dumps.set(id, pending);
  }
  return pending;
}

describe.each(['base', 'instruct'] as const)('SmolVLM-%s’s real configuration', (variant) => {
  it(
    'splits images of three shapes into 17, 9 and 13 tiles of 81 tokens, with row/col text the tokenizer splits',
    async () => {
      const dumped = (await dump(variant)).filter((e) => e.source === 'qa');
      expect(dumped.map((e) => e.image_tiles)).toEqual(IMAGES.map((i) => i.tiles));
      for (const example of dumped) {
        expect(example.truncated).toBe(false);
        expect(example.tokens.filter((t) => t === '<image>')).toHaveLength(
          81 * example.image_tiles,
        );
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
    },
    WORKER_TIMEOUT,
  );

  it.each(['qa', 'caption'] as const)(
    '%s examples: the label mask is the assistant turn exactly, token by token',
    async (source) => {
      const dumped = (await dump(variant)).filter((e) => e.source === source);
      expect(dumped).toHaveLength(3);
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
    WORKER_TIMEOUT,
  );
});

describe('loss on all tokens', () => {
  it(
    'the user turn’s text carries loss, the whole image block never',
    async () => {
      for (const example of await dump('base', 'all')) {
        const [first, last] = imageBlock(example);
        for (const [i, label] of example.labels.entries()) {
          const inImage = i >= first && i <= last;
          expect(label, `token ${i} ${example.tokens[i]}`).toBe(
            inImage ? IGNORE : example.input_ids[i],
          );
        }
      }
    },
    WORKER_TIMEOUT,
  );
});

describe('training and generating on the real configuration', () => {
  async function train(
    variant: RealConfigVariant,
    supervision: Supervision,
    scope: 'all' | 'text_model',
  ): Promise<{ adapter: string; losses: number[] }> {
    const out = join(dir, `train-${variant}-${supervision}`);
    const losses: number[] = [];
    const done = await runWorker(
      {
        type: 'train',
        outputs: TRAIN_OUTPUT,
        output_dir: out,
        models_dir: models,
        model: { base: realConfigName(variant) },
        data: { train: trainFile, image_root: dir },
        supervision,
        seed: 3,
        // Batches of two examples of different lengths: right padding, zero-filled tiles.
        train: defaultTrainSettings({
          batch_size: 2,
          grad_accum: 1,
          max_steps: 2,
          device: 'cpu',
          lora: { scope },
        }),
      },
      {
        python,
        logFile: join(dir, `train-${variant}.log`),
        onEvent: (event) => {
          if (event.event === 'metric') losses.push((event as TrainMetric).loss ?? Number.NaN);
        },
      },
    );
    if (!done.ok) throw new Error(JSON.stringify(done.error));
    expect(losses).toHaveLength(2);
    expect(losses.every((loss) => Number.isFinite(loss) && loss > 0)).toBe(true);
    return { adapter: join(out, 'adapter'), losses };
  }

  async function adapted(adapter: string): Promise<string[]> {
    const weights = await readFile(join(adapter, 'adapter_model.safetensors'));
    const header = JSON.parse(
      weights.subarray(8, 8 + Number(weights.readBigUInt64LE(0))).toString(),
    ) as Record<string, unknown>;
    return Object.keys(header).filter((n) => n !== '__metadata__');
  }

  async function generate(variant: RealConfigVariant, adapter: string): Promise<void> {
    const out = join(dir, `generate-${variant}`);
    const done = await runWorker(
      {
        type: 'generate',
        outputs: GENERATE_OUTPUT,
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
  }

  it(
    'Base, qa: trains in padded batches of 2, adapting both towers, then generates with the adapter',
    async () => {
      const { adapter } = await train('base', 'qa', 'all');
      const names = await adapted(adapter);
      expect(names.some((n) => n.includes('.vision_model.'))).toBe(true);
      expect(names.some((n) => n.includes('.text_model.'))).toBe(true);
      await generate('base', adapter);
    },
    WORKER_TIMEOUT,
  );

  it(
    'Base, caption, scope text_model: the adapter holds the language model’s modules only',
    async () => {
      const { adapter } = await train('base', 'caption', 'text_model');
      const names = await adapted(adapter);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.includes('.text_model.'))).toBe(true);
    },
    WORKER_TIMEOUT,
  );

  it(
    'Instruct, qa_caption: trains, then generates with the adapter',
    async () => {
      const { adapter } = await train('instruct', 'qa_caption', 'all');
      await generate('instruct', adapter);
    },
    WORKER_TIMEOUT,
  );
});

describe('the full-size configuration on the meta device', () => {
  it(
    'counts SmolVLM-Base’s 2,246,272,880 parameters, and shows which towers LoRA wraps',
    async () => {
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
    },
    WORKER_TIMEOUT,
  );
});

describe('the GPU memory estimate of a training job', () => {
  let resolveGpus: (bytes: number[]) => void = () => {};
  const gpuMemory = new Promise<number[]>((resolve) => {
    resolveGpus = resolve;
  });
  const paper = (overrides: Parameters<typeof defaultTrainSettings>[0] = {}) => ({
    name: 'paper',
    model: { base: 'HuggingFaceTB/SmolVLM-Base' },
    train: defaultTrainSettings({ device: 'cuda', ...overrides }),
  });

  it(
    'puts the paper’s setting at about 29 GiB, most of it the vision tower’s activations',
    async () => {
      const doctor = await workerDoctor(join(dir, 'doctor.log'), [
        paper(),
        { ...paper({ lora: { scope: 'text_model' } }), name: 'text-only' },
        { ...paper({ gradient_checkpointing: true }), name: 'checkpointed' },
      ]);
      if (!doctor.ok) throw new Error(doctor.error.message);
      resolveGpus(doctor.value.gpu_memory);
      const [all, textOnly, checkpointed] = doctor.value.memory_estimates as Array<
        Required<(typeof doctor.value.memory_estimates)[number]> & { lora_parameters: number }
      >;
      if (!all || !textOnly || !checkpointed) throw new Error('three estimates expected');
      expect(all.tiles_per_image).toBe(17);
      // The same LoRA size as PEFT's count on the full-size model, from the shapes alone.
      expect(all.lora_parameters).toBe(2_568_192);
      expect(textOnly.lora_parameters).toBe(1_572_864);
      const gib = (bytes: number) => bytes / 1024 ** 3;
      expect(gib(all.bytes)).toBeGreaterThan(25);
      expect(gib(all.bytes)).toBeLessThan(35);
      expect(gib(all.parts.weights ?? 0)).toBeCloseTo((2_246_272_880 * 4) / 1024 ** 3, 5);
      // No gradient reaches the vision tower when only the text model is adapted.
      expect(textOnly.parts.vision_activations).toBeLessThan(
        (all.parts.vision_activations ?? 0) / 10,
      );
      expect(checkpointed.bytes).toBeLessThan(all.bytes);
    },
    WORKER_TIMEOUT,
  );

  it(
    'is a preflight check: skipped with the estimate where no GPU is, judged where one is',
    async () => {
      const [check] = await trainMemoryChecks([paper()]);
      expect(check?.subject).toBe('memory for paper (HuggingFaceTB/SmolVLM-Base)');
      expect(check?.detail).toMatch(/needs about \d+\.\d GiB for batch 1, 17 tiles an image/);
      const gpus = await gpuMemory;
      const largest = Math.max(0, ...gpus);
      if (largest === 0) expect(check?.outcome).toBe('skipped');
      else expect(check?.outcome).toBe(largest >= 30 * 1024 ** 3 ? 'passed' : 'failed');
    },
    WORKER_TIMEOUT,
  );
});
