import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { planSweep } from '../../runner/sweep-plan.ts';
import { type Serving, startServe } from '../../stages/tuned-model/serve-command.ts';
import { launchChromium } from '../headless-chromium.ts';
import { checkpointPipeline } from '../model-worker/checkpoint-pipeline.ts';
import {
  makeTrainedStore,
  storedImage,
  storedPredictions,
  type TrainedStore,
} from './trained-store.ts';

/**
 * `dermatune serve` in headless Chromium over a store where the tiny stand-in was trained: the
 * test ticks two variants, uploads an image, asks, and reads both answers side by side (the
 * store's own predictions for that image and question, since the models decode as the study
 * did); a follow-up question keeps the conversation and loads no model again; text from data
 * shows as text. The screenshot is kept in tests/artifacts/serve.png.
 */
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
let trained: TrainedStore;
let serving: Serving;
let browser: Browser;

beforeAll(async () => {
  trained = await makeTrainedStore();
  const plan = await planSweep(checkpointPipeline, {
    specPath: trained.spec,
    fresh: false,
  });
  if (!plan.ok) throw new Error('the spec does not plan');
  serving = await startServe({
    plan: plan.value,
    store: new ArtifactStore(resolve(trained.store)),
    runArgs: 'trained.yaml',
    host: '127.0.0.1',
    port: 0,
  });
  browser = await launchChromium();
}, 1_200_000);

afterAll(async () => {
  await browser?.close();
  await serving?.close();
});

describe('dermatune serve', () => {
  it('answers side by side in the browser, keeps the models loaded and the conversation', async () => {
    const [tuned] = await storedPredictions(trained.store, true);
    const [base] = await storedPredictions(trained.store, false);
    if (!tuned || !base) throw new Error('no stored predictions');
    const image = await storedImage(trained.store, tuned.image);
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(serving.url);
    await page.locator('input[value="lora"]').check();
    await page.locator('input[value="none"]').check();
    // A variant that was never trained can be seen, not picked.
    expect(await page.locator('input[value="lora-r4"]').isDisabled()).toBe(true);
    await expect
      .poll(() => page.locator('#variants').textContent(), { timeout: 300_000 })
      .toMatch(/lora\s*LoRA adapter.*ready.*none\s*untuned base.*ready/s);
    await page.locator('#image').setInputFiles(image);
    await page.locator('#question').fill(tuned.question);
    await page.locator('#ask').click();
    await page.waitForSelector('.column[data-variant="none"] .answer', { timeout: 300_000 });
    const answers = async (variant: string) =>
      page.locator(`.column[data-variant="${variant}"] .answer`).allTextContents();
    expect(await answers('lora')).toEqual([tuned.prediction]);
    expect(await answers('none')).toEqual([base.prediction]);

    const followUp = 'Is it <b>contagious</b>?';
    await page.locator('#question').fill(followUp);
    await page.locator('#ask').click();
    await page.locator('.column[data-variant="none"] .answer').nth(1).waitFor({ timeout: 300_000 });
    expect(await answers('lora')).toHaveLength(2);
    // The question came back as text, never as markup.
    expect(await page.locator('#answers b').count()).toBe(0);
    expect(await page.locator('#answers').textContent()).toContain(`Q: ${followUp}`);
    expect(Object.fromEntries(serving.models.loads)).toEqual({ lora: 1, none: 1 });

    const shot = join(trained.dir, 'serve.png');
    await page.screenshot({ path: shot, fullPage: true });
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, '.gitignore'), '*\n');
    await copyFile(shot, join(ARTIFACTS, 'serve.png'));
  }, 900_000);

  it('refuses what is not an image, and names an untrained variant with the command to train it', async () => {
    const post = (body: unknown) =>
      fetch(new URL('api/ask', serving.url), { method: 'POST', body: JSON.stringify(body) });
    const text = await post({
      variants: ['lora'],
      question: 'what is it?',
      image: `data:text/plain;base64,${Buffer.from('not a picture').toString('base64')}`,
    });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error: string }).error).toBe(
      'the image: not an image (PNG, JPEG, GIF, WebP or BMP expected)',
    );
    const untrained = await post({ variants: ['lora-r4'], question: 'what is it?', image: '' });
    expect(untrained.status).toBe(400);
    expect(((await untrained.json()) as { error: string }).error).toContain(
      'dermatune run trained.yaml --only lora-r4',
    );
  });
});
