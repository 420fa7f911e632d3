import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES_OUTPUT } from '../../stages/model-worker/job-schema.ts';
import { defaultTrainSettings } from '../../stages/model-worker/spec-defaults.ts';
import { runWorker } from '../../stages/model-worker/worker-client.ts';
import type { Supervision } from '../../stages/model-worker/worker-job.ts';
import { makeWorkerFixture, type WorkerFixture, workerReady } from './worker-fixture.ts';

/** One training example exactly as the worker would train on it (`examples` job output). */
interface DumpedExample {
  source: 'qa' | 'caption';
  record_index: number;
  image: string;
  prompt: string;
  target: string;
  input_ids: number[];
  labels: number[];
  tokens: string[];
  image_tiles: number;
}

const IMAGE_LAYOUT = /^<(image|fake_token_around_image|global-img|row_\d_col_\d)>$/;
let fixture: WorkerFixture;
let python: string;
let models: string;

beforeAll(async () => {
  ({ python, modelsDir: models } = await workerReady());
  fixture = await makeWorkerFixture();
  // A fresh clone creates the venv (torch, transformers, peft) here, possibly behind another installer.
}, 600_000);

async function examples(
  supervision: Supervision,
  lossOn: 'assistant' | 'all' = 'assistant',
): Promise<DumpedExample[]> {
  const out = join(fixture.dir, `examples-${supervision}-${lossOn}`);
  const done = await runWorker(
    {
      type: 'examples',
      outputs: EXAMPLES_OUTPUT,
      output_dir: out,
      models_dir: models,
      model: { base: 'tiny-smolvlm-standin' },
      data: { train: fixture.trainFile, image_root: fixture.imageRoot },
      supervision,
      caption_instruction: 'Describe this clinical image.',
      train: defaultTrainSettings({ loss_on: lossOn, image_size: 384 }),
    },
    { python, logFile: join(fixture.dir, 'examples.log') },
  );
  if (!done.ok) throw new Error(JSON.stringify(done.error));
  const text = await readFile(join(out, EXAMPLES_OUTPUT.examples), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DumpedExample);
}

/** Index of the first token after "Assistant:" (the assistant turn's content). */
function assistantStart(example: DumpedExample): number {
  const text = example.tokens.join('');
  expect(text.split('Assistant:')).toHaveLength(2);
  let seen = '';
  for (const [i, token] of example.tokens.entries()) {
    seen += token;
    if (seen.endsWith('Assistant:')) return i + 1;
  }
  throw new Error('no assistant turn');
}

function expectChatShape(example: DumpedExample): void {
  // SmolVLM's template: <|im_start|>User:<image...>prompt<end_of_utterance>\nAssistant: target<end_of_utterance>\n
  // (the tokens are byte-level BPE: Ġ is a space, Ċ a newline).
  const text = example.tokens.join('').replaceAll('Ġ', ' ').replaceAll('Ċ', '\n');
  const withoutImage = text.replace(/(<fake_token_around_image>|<global-img>|<image>)+/g, '<IMG>');
  expect(withoutImage).toBe(
    `<|im_start|>User:<IMG>${example.prompt}<end_of_utterance>\nAssistant: ${example.target}<end_of_utterance>\n`,
  );
  expect(example.tokens.filter((t) => t === '<image>')).toHaveLength(16 * example.image_tiles);
}

function expectAssistantOnlyLabels(example: DumpedExample): void {
  const start = assistantStart(example);
  expect(example.labels).toHaveLength(example.input_ids.length);
  for (const [i, label] of example.labels.entries()) {
    if (i < start) expect(label, `position ${i} (${example.tokens[i]})`).toBe(-100);
    else expect(label, `position ${i} (${example.tokens[i]})`).toBe(example.input_ids[i]);
  }
  // The loss covers the answer and the end-of-utterance token that teaches the model to stop.
  const supervised = example.tokens
    .slice(start)
    .join('')
    .replaceAll('Ġ', ' ')
    .replaceAll('Ċ', '\n');
  expect(supervised).toBe(` ${example.target}<end_of_utterance>\n`);
}

describe('training examples per supervision type', () => {
  it('qa: one example per QA pair, image and question in the user turn, loss on the answer only', async () => {
    const got = await examples('qa');
    expect(got).toHaveLength(12);
    expect(got.map((e) => e.source)).toEqual(Array(12).fill('qa'));
    for (const [i, example] of got.entries()) {
      const record = fixture.records[i];
      expect(example.prompt).toBe(record?.question);
      expect(example.target).toBe(record?.answer);
      expect(example.image).toBe(join(fixture.imageRoot, record?.image ?? ''));
      expectChatShape(example);
      expectAssistantOnlyLabels(example);
    }
  });

  it('caption: one example per distinct image, the instruction in the user turn, loss on the caption', async () => {
    const got = await examples('caption');
    expect(got).toHaveLength(4);
    expect(new Set(got.map((e) => e.image)).size).toBe(4);
    for (const example of got) {
      expect(example.source).toBe('caption');
      expect(example.prompt).toBe('Describe this clinical image.');
      expect(example.target).toBe(fixture.records[example.record_index]?.caption);
      expectChatShape(example);
      expectAssistantOnlyLabels(example);
    }
  });

  it('qa_caption: the QA examples and the caption examples together', async () => {
    const got = await examples('qa_caption');
    expect(got.map((e) => e.source)).toEqual([
      ...Array(12).fill('qa'),
      ...Array(4).fill('caption'),
    ]);
    for (const example of got) expectAssistantOnlyLabels(example);
  });

  it('loss_on all: every token carries loss except the image tokens', async () => {
    const got = await examples('qa', 'all');
    for (const example of got) {
      for (const [i, token] of example.tokens.entries()) {
        const expected = IMAGE_LAYOUT.test(token) ? -100 : example.input_ids[i];
        expect(example.labels[i], `position ${i} (${token})`).toBe(expected);
      }
    }
  });
});
