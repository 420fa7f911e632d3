import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { annotationRequest } from '../../stages/annotate/annotate-prompt.ts';
import { annotateKind } from '../../stages/annotate/kind.ts';
import { estimateTokens } from '../../stages/llm/llm-client.ts';
import { syntheticRecords, TempDirs, writeRecords } from './llm-stage-fixtures.ts';

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const llm = {
  provider: 'gemini',
  model: 'gemini-3.6-flash',
  max_output_tokens: 400,
  thinking_budget: 256,
  price: { input_per_million: 1.5, output_per_million: 7.5 },
};

describe('LLM stage estimates', () => {
  it('counts the calls from the stored input and bounds tokens and money by the budgets', async () => {
    const records = syntheticRecords(12);
    const dir = await writeRecords(join(await temp.make(), 'curate'), records);
    const estimate = await annotateKind.estimate?.(
      { llm },
      preflightContext({ env: {}, storedInput: (name) => (name === 'records' ? dir : undefined) }),
    );
    const input = records.reduce((sum, r) => sum + estimateTokens(annotationRequest(r)), 0);
    expect(estimate?.amounts).toEqual({
      'llm calls': 12,
      'input tokens': input,
      'output tokens': 12 * 400,
      'thought tokens': 12 * 256,
    });
    expect(estimate?.usd).toBeCloseTo((input * 1.5 + 12 * (400 + 256) * 7.5) / 1e6, 12);
  });

  it('says the calls are unknown until the input is stored, with the per-call bound', async () => {
    const estimate = await annotateKind.estimate?.({ llm }, preflightContext({ env: {} }));
    expect(estimate?.amounts).toEqual({});
    expect(estimate?.note).toBe(
      'calls unknown until curate is stored (one per curated figure); each call at most 400 output + 256 thought tokens (<= $0.0049 of output)',
    );
  });
});
