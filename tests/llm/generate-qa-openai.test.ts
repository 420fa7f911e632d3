import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QUESTION_BANK } from '../../stages/generate-qa/question-bank.ts';
import { type QaRow, runGenerateQa } from '../../stages/generate-qa/run-generate-qa.ts';
import type { ItemFailure } from '../../stages/llm/llm-stage-items.ts';
import {
  patientOf,
  stageContext,
  syntheticRecords,
  TempDirs,
  writeRecords,
} from './llm-stage-fixtures.ts';
import { CHAT_USAGE, type ChatBehaviour, startOpenAiServer } from './openai-protocol-server.ts';

const temp = new TempDirs();
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
  await temp.cleanup();
});

const IMAGES = 8;
const KEY = 'sk-local-4d2b-not-for-logs';

function questionIdOf(prompt: string): string | undefined {
  return QUESTION_BANK.find((q) => prompt.includes(`Question: ${q.text}`))?.id;
}

describe('generate-qa through the openai provider against an OpenAI-compatible server', () => {
  it('answers three seeded questions per image, one call each, and a rerun makes no call', async () => {
    const work = await temp.make();
    const recordsDir = await writeRecords(join(work, 'select'), syntheticRecords(IMAGES));
    const attempts = new Map<string, number>();
    let filtering = true;
    const server = await startOpenAiServer((request): ChatBehaviour => {
      expect(request.authorization).toBe(`Bearer ${KEY}`);
      const id = `${patientOf(request.prompt)}#${questionIdOf(request.prompt)}`;
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const patient = patientOf(request.prompt);
      if (patient === 5 && filtering && questionIdOf(request.prompt)?.startsWith('grounded')) {
        return { kind: 'content-filter' };
      }
      // The last image's general questions never get a usable answer.
      if (patient === IMAGES - 1 && questionIdOf(request.prompt)?.startsWith('general')) {
        return { kind: 'malformed' };
      }
      if (attempt === 1 && patient % 3 === 0)
        return { kind: 'rate-limit', retryAfterSeconds: 0.05 };
      if (attempt === 1 && patient % 3 === 1) return { kind: 'server-error' };
      if (attempt === 1 && patient === 2) return { kind: 'malformed' };
      return { kind: 'answer', text: JSON.stringify({ answer: `  Answer for ${id}.  ` }) };
    });
    close = server.close;
    const params = {
      seed: 7,
      data: { questions_per_image: 3 },
      llm: {
        provider: 'openai',
        model: 'qwen-test',
        base_url: server.url,
        api_key_env: 'MY_LLM_KEY',
        temperature: 0.2,
        max_output_tokens: 300,
        rate_limit: { concurrency: 3 },
      },
    };
    const options = { env: { MY_LLM_KEY: KEY }, backoff: { baseDelayMs: 10, maxDelayMs: 40 } };
    const memoRoot = join(work, 'memo');

    const first = await stageContext({
      params,
      inputs: { images: recordsDir },
      memoRoot,
      workDir: work,
    });
    const blocked = await runGenerateQa(first.ctx, options);
    if (blocked.ok) throw new Error('the content-filtered question should fail the stage');
    expect(blocked.error.reason).toBe('items-failed');
    const failures = blocked.error.details as ItemFailure[];
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ reason: 'safety-block' });
    expect(failures[0]?.item).toMatch(/^PMC1002_F2#grounded-/);
    expect(JSON.stringify(blocked.error)).not.toContain(KEY);

    const firstRequest = server.seen[0];
    expect(firstRequest?.responseFormat).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'answer', strict: true, schema: { required: ['answer'] } },
    });
    expect(firstRequest).toMatchObject({ model: 'qwen-test', temperature: 0.2, maxTokens: 300 });
    expect(firstRequest?.system).toContain('Never mention the caption');

    filtering = false;
    const hitsBefore = server.seen.length;
    const second = await stageContext({
      params,
      inputs: { images: recordsDir },
      memoRoot,
      workDir: work,
    });
    const done = await runGenerateQa(second.ctx, options);
    if (!done.ok) throw new Error(done.error.message);
    expect(server.seen.length - hitsBefore).toBe(1);
    const rows = await readQa(second.ctx.outDir);
    // Malformed to the last attempt: left out and counted, the stage still succeeds.
    const droppedCount =
      ((done.value.stats?.dropped ?? {}) as Record<string, number>)['malformed-answer'] ?? 0;
    expect(droppedCount).toBeGreaterThanOrEqual(1);
    expect(rows).toHaveLength(IMAGES * 3 - droppedCount);
    expect(rows.filter((r) => r.key === 'PMC1003_F2').every((r) => r.kind === 'grounded')).toBe(
      true,
    );
    for (let image = 0; image < IMAGES - 1; image++) {
      const mine = rows.slice(image * 3, image * 3 + 3);
      expect(new Set(mine.map((r) => r.question_id)).size).toBe(3);
      expect(new Set(mine.map((r) => r.kind))).toEqual(new Set(['general', 'grounded']));
      for (const row of mine) {
        expect(row.answer).toBe(`Answer for ${image}#${row.question_id}.`);
        expect(row.question).toBe(QUESTION_BANK.find((q) => q.id === row.question_id)?.text);
      }
    }
    expect(rows[0]).toMatchObject({
      key: 'PMC1000_F1',
      image: 'images/PMC1000_F1.jpg',
      article_id: 'PMC1000',
    });
    expect(rows[0]?.caption).toContain('impetigo');
    // The model that answered (OpenAI's `model` field), for every answer in the output, memoized
    // ones included, in the stats and as the tag tracking logs.
    expect(done.value.stats?.llm_model_versions).toEqual({ [params.llm.model]: rows.length });
    expect(done.value.tags).toEqual({ 'llm.model_version': params.llm.model });
    const metrics = done.value.metrics ?? {};
    // Everything but the filtered question came from the memo, the malformed ones included.
    expect(metrics['llm/generate-qa/cache_hits']).toBe(IMAGES * 3 - 1);
    expect(metrics['generate-qa/dropped_malformed']).toBe(droppedCount);
    expect(metrics['llm/generate-qa/input_tokens']).toBe(CHAT_USAGE.prompt);

    // Same seed: the same questions, all from the memo; another seed draws others.
    const hitsBeforeRerun = server.seen.length;
    const third = await stageContext({
      params,
      inputs: { images: recordsDir },
      memoRoot,
      workDir: work,
    });
    expect((await runGenerateQa(third.ctx, options)).ok).toBe(true);
    expect(server.seen.length).toBe(hitsBeforeRerun);
    expect(await readQa(third.ctx.outDir)).toEqual(rows);
    const reseeded = await stageContext({
      params: { ...params, seed: 8 },
      inputs: { images: recordsDir },
      memoRoot,
      workDir: work,
    });
    expect((await runGenerateQa(reseeded.ctx, options)).ok).toBe(true);
    const otherDraw = (await readQa(reseeded.ctx.outDir)).map((r) => r.question_id);
    expect(otherDraw).not.toEqual(rows.map((r) => r.question_id));
  });
});

async function readQa(dir: string): Promise<QaRow[]> {
  return (await readFile(join(dir, 'qa.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as QaRow);
}
