import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AskAnswer } from '../../stages/tuned-model/ask-variant.ts';
import { MAX_IMAGE_BYTES } from '../../stages/tuned-model/image-input.ts';
import {
  makeTrainedStore,
  storedImage,
  storedPredictions,
  type TrainedStore,
} from './trained-store.ts';

/**
 * `dermatune ask` over a store where the tiny stand-in was really trained: the tuned variant
 * answers from its stored adapter and the baseline from the base model, each exactly as the
 * study's generate stage answered the same question about the same image (greedy decoding, the
 * same settings read from the stored stage), and nothing in the store changes.
 */
let trained: TrainedStore;

beforeAll(async () => {
  trained = await makeTrainedStore();
}, 1_200_000);

describe('dermatune ask', () => {
  it("answers as each variant's stored predictions did, with the study's settings, changing nothing stored", async () => {
    const [tuned] = await storedPredictions(trained.store, true);
    const [base] = await storedPredictions(trained.store, false);
    if (!tuned || !base) throw new Error('no stored predictions');
    const image = await storedImage(trained.store, tuned.image);
    const before = await trained.snapshot();
    const result = await trained.cli([
      'ask',
      'trained.yaml',
      '--variant',
      'lora',
      '--variant',
      'none',
      '--image',
      image,
      tuned.question,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { answers } = JSON.parse(result.stdout) as { answers: AskAnswer[] };
    expect(answers.map((a) => a.variant)).toEqual(['lora', 'none']);
    expect(answers[0]?.answer).toBe(tuned.prediction);
    expect(answers[1]?.answer).toBe(base.prediction);
    // The adapter changes what the stand-in says, so the first answer is the adapter's own.
    expect(answers[0]?.answer).not.toBe(answers[1]?.answer);
    expect(answers[0]?.adapterKey).toMatch(/^[0-9a-f]{64}$/);
    expect(answers[1]?.adapterKey).toBeUndefined();
    for (const answer of answers) {
      expect(answer.imageSize).toBe(64);
      expect(answer.settingsFrom).toBe('stored-generate-job');
      expect(answer.settings).toMatchObject({ max_new_tokens: 10, do_sample: false });
    }
    expect(await trained.snapshot()).toEqual(before);
  }, 600_000);

  it('prints each answer under its variant, model and decoding settings', async () => {
    const [tuned] = await storedPredictions(trained.store, true);
    if (!tuned) throw new Error('no stored predictions');
    const image = await storedImage(trained.store, tuned.image);
    const result = await trained.cli([
      'ask',
      'trained.yaml',
      '--variant',
      'none,lora',
      '--image',
      image,
      tuned.question,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Q: ${tuned.question}`);
    expect(result.stdout).toMatch(
      /── none · untuned tiny-smolvlm-standin · image 64 px · greedy, up to 10 new tokens\n/,
    );
    expect(result.stdout).toMatch(
      /── lora · LoRA adapter [0-9a-f]{12} · image 64 px · greedy, up to 10 new tokens\n/,
    );
    expect(result.stdout.indexOf('── none')).toBeLessThan(result.stdout.indexOf('── lora'));
  }, 600_000);

  describe('refuses bad input with one line, exit 2, before any model loads', () => {
    async function refused(argv: string[]): Promise<string> {
      const before = await trained.snapshot();
      const result = await trained.cli(['ask', 'trained.yaml', ...argv]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await trained.snapshot()).toEqual(before);
      return result.stderr;
    }

    it('a variant not in the spec, with the nearest name', async () => {
      const png = await aPng();
      expect(await refused(['--variant', 'lorra', '--image', png, 'what is it?'])).toContain(
        '--variant lorra: no such variant in trained-store; did you mean "lora"? (variants: lora, none, lora-r4)',
      );
    });

    it('a variant not trained yet, naming the command that trains it', async () => {
      const png = await aPng();
      expect(await refused(['--variant', 'lora-r4', '--image', png, 'what is it?'])).toContain(
        'variant lora-r4 is not trained yet; train it with `dermatune run trained.yaml --only lora-r4`',
      );
    });

    it('a file that is not an image', async () => {
      const text = join(trained.dir, 'notes.txt');
      await writeFile(text, 'not a picture\n');
      expect(await refused(['--variant', 'lora', '--image', text, 'what is it?'])).toContain(
        `--image ${text}: not an image (PNG, JPEG, GIF, WebP or BMP expected)`,
      );
    });

    it('an image file that is too large', async () => {
      const big = join(trained.dir, 'huge.png');
      await writeFile(big, PNG_SIGNATURE);
      await truncate(big, MAX_IMAGE_BYTES + 1);
      expect(await refused(['--variant', 'lora', '--image', big, 'what is it?'])).toContain(
        `--image ${big}: it is too large (${MAX_IMAGE_BYTES + 1} bytes; the limit is ${MAX_IMAGE_BYTES})`,
      );
    });

    it('a missing image and a folder', async () => {
      expect(
        await refused(['--variant', 'lora', '--image', 'nowhere.png', 'what is it?']),
      ).toContain('--image ');
      expect(await refused(['--variant', 'lora', '--image', trained.dir, 'what is it?'])).toContain(
        'it is a folder, not a regular file',
      );
    });
  });
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function aPng(): Promise<string> {
  const [tuned] = await storedPredictions(trained.store, true);
  if (!tuned) throw new Error('no stored predictions');
  return storedImage(trained.store, tuned.image);
}
