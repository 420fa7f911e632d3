import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { modelsDir, STAND_IN_NAME } from '../../stages/model-worker/stand-in-model.ts';
import { loadExport } from './load-export.ts';
import {
  makeTrainedStore,
  storedImage,
  storedPredictions,
  type TrainedStore,
} from './trained-store.ts';

/**
 * `dermatune export` over a store where the tiny stand-in was really trained. The export is
 * loaded in a fresh Python process with transformers and PEFT alone (tests/cli/fixtures/
 * load_export.py imports nothing of dermatune), with the folder's own processor and generation
 * config, and must give the store's greedy predictions for the same questions; the merged
 * weights, loaded with transformers alone, too.
 */
let trained: TrainedStore;

beforeAll(async () => {
  trained = await makeTrainedStore();
}, 1_200_000);

describe('dermatune export', () => {
  it('writes an adapter folder that plain transformers + peft load, answering as the store did; merged too', async () => {
    const before = await trained.snapshot();
    const to = join(trained.dir, 'exported');
    const result = await trained.cli([
      'export',
      'trained.yaml',
      '--variant',
      'lora',
      '--to',
      'exported',
      '--merge',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await trained.snapshot()).toEqual(before);
    const files = await readdir(to);
    for (const file of [
      'adapter_config.json',
      'adapter_model.safetensors',
      'generation_config.json',
      'processor_config.json',
      'README.md',
      'merged',
    ]) {
      expect(files).toContain(file);
    }
    expect(await readdir(join(to, 'merged'))).toContain('model.safetensors');
    expect(await readdir(trained.dir)).not.toContainEqual(expect.stringMatching(/partial/));

    // The base is named as the spec names it, never by a path on this machine.
    const config = JSON.parse(await readFile(join(to, 'adapter_config.json'), 'utf8'));
    expect(config.base_model_name_or_path).toBe(STAND_IN_NAME);
    expect(config.revision).toBe('main');
    const generation = JSON.parse(await readFile(join(to, 'generation_config.json'), 'utf8'));
    expect(generation).toMatchObject({ max_new_tokens: 10 });
    expect(generation.do_sample ?? false).toBe(false);
    const processor = JSON.parse(await readFile(join(to, 'processor_config.json'), 'utf8'));
    expect(processor.image_processor.size).toEqual({ longest_edge: 64 });

    const card = await readFile(join(to, 'README.md'), 'utf8');
    const front = parse(card.split('---\n')[1] ?? '') as Record<string, unknown>;
    expect(front).toMatchObject({ library_name: 'peft', license: 'other' });
    // The stand-in is no hub model, so the card names it in its text, not as `base_model`.
    expect(front.base_model).toBeUndefined();
    expect(card).toContain('`tiny-smolvlm-standin` (a local model that dermatune builds');
    expect(card).toContain('| unknown | 4 |');
    expect(card).toContain('12 question-answer rows about 4 figures from 4 articles');
    const [trainKey] = card.match(/\| train \| train \| `([0-9a-f]{64})` \|/)?.slice(1) ?? [];
    expect(trainKey).toBeDefined();
    expect(card).toContain('method: lora');

    const predictions = (await storedPredictions(trained.store, true)).slice(0, 6);
    const items = await Promise.all(
      predictions.map(async (p) => ({
        question: p.question,
        image: await storedImage(trained.store, p.image),
      })),
    );
    const expected = predictions.map((p) => p.prediction);
    expect(
      loadAndAnswer({ mode: 'adapter', folder: to, base: join(modelsDir(), STAND_IN_NAME), items }),
    ).toEqual(expected);
    expect(loadAndAnswer({ mode: 'merged', folder: join(to, 'merged'), items })).toEqual(expected);
  }, 600_000);

  describe('refuses with one line and exit 2, writing nothing', () => {
    async function refused(argv: string[]): Promise<string> {
      const before = await trained.snapshot();
      const result = await trained.cli(['export', 'trained.yaml', ...argv]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await trained.snapshot()).toEqual(before);
      return result.stderr;
    }

    it('an untuned variant, which has no adapter', async () => {
      expect(await refused(['--variant', 'none', '--to', 'out-none'])).toContain(
        'variant none is untuned (train.method: none): it has no adapter to export',
      );
      expect(await readdir(trained.dir)).not.toContain('out-none');
    });

    it('a variant not trained yet, and one not in the spec', async () => {
      expect(await refused(['--variant', 'lora-r4', '--to', 'out-r4'])).toContain(
        'variant lora-r4 is not trained yet; train it with `dermatune run trained.yaml --only lora-r4`',
      );
      expect(await refused(['--variant', 'lora4', '--to', 'out-r4'])).toContain(
        'did you mean "lora"?',
      );
    });

    it('a folder that already holds something', async () => {
      const taken = join(trained.dir, 'taken');
      await mkdir(taken, { recursive: true });
      await writeFile(join(taken, 'keep.txt'), 'mine');
      expect(await refused(['--variant', 'lora', '--to', 'taken'])).toContain(
        'exists and is not an empty folder',
      );
      expect(await readdir(taken)).toEqual(['keep.txt']);
    });
  });
});

function loadAndAnswer(request: Record<string, unknown>): string[] {
  return loadExport(trained.dir, request).answers;
}
