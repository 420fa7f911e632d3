import { join } from 'node:path';
import { fail, ok } from '../../runner/result.ts';
import { defineStageKind } from '../../runner/stage-kind.ts';
import { CURATE_OUTPUT } from '../curate/contract.ts';
import type { CuratedRecord } from '../curate/curated-record.ts';
import { readJsonlLines, writeJsonl } from '../shared/jsonl-file.ts';
import { labellerSchema } from '../shared/spec-fragments.ts';
import { annotateKeywordsContract } from './contract.ts';
import { labelByKeywords } from './keyword-labeller.ts';

/**
 * `data.labeller: keywords`: labels figures by the condition terms their text names, instead of
 * asking an LLM. Writes the same annotations.jsonl as `annotate`, so select reads either.
 */
export const annotateKeywordsKind = defineStageKind({
  name: 'annotate-keywords',
  version: 1,
  description:
    'label each figure by the condition terms its caption and mentions name (offline stand-in)',
  contract: annotateKeywordsContract,
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: { data: { type: 'object', properties: { labeller: labellerSchema } } },
  },
  async run(ctx) {
    const lines = await readJsonlLines(join(ctx.inputs.records.dir, CURATE_OUTPUT.records));
    if (!lines.ok) return fail({ reason: 'invalid-input', message: lines.error.message });
    const rows = lines.value.map((line) => labelByKeywords(line.value as CuratedRecord));
    await writeJsonl(join(ctx.outDir, annotateKeywordsContract.outputs.annotations), rows);
    const byCategory: Record<string, number> = {};
    for (const row of rows) {
      const label = `${row.category_number} ${row.category_name}`;
      byCategory[label] = (byCategory[label] ?? 0) + 1;
    }
    return ok({ metrics: { 'annotate/records': rows.length }, stats: { by_category: byCategory } });
  },
});
