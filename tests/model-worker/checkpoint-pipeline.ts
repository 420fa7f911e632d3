import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pipeline, PipelineStage } from '../../runner/pipeline.ts';
import { ok } from '../../runner/result.ts';
import { defineStageKind } from '../../runner/stage-kind.ts';
import { generateKind } from '../../stages/generate/kind.ts';
import { specBaseSchema } from '../../stages/spec-base-schema.ts';
import { trainKind } from '../../stages/train/kind.ts';
import { makeWorkerFixture } from './worker-fixture.ts';

/**
 * The study's real train and generate stages behind one small data stage, for crash tests of
 * the whole `dermatune run` that must stay within minutes: the data stage writes the worker
 * fixture (four images, twelve QA rows with captions) as the data chain would leave it, and
 * asks every row twice as a test question. The commands that use a trained variant (`ask`,
 * `export`) are tested over the same chain.
 */
const fixtureDataKind = defineStageKind<Record<string, never>>({
  name: 'fixture-data',
  version: 1,
  description: 'writes the worker fixture: images, train.jsonl, test.jsonl',
  inputs: [],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: { type: 'object', properties: {} },
  async run(ctx) {
    const fixture = await makeWorkerFixture();
    await cp(join(fixture.imageRoot, 'images'), join(ctx.outDir, 'images'), { recursive: true });
    await cp(fixture.trainFile, join(ctx.outDir, 'train.jsonl'));
    // Every row asked twice (the second time under its own id): 24 questions.
    const questions = [
      ...fixture.records,
      ...fixture.records.map((record) => ({ ...record, question_id: `${record.question_id}b` })),
    ];
    const rows = questions.map((record) => `${JSON.stringify(record)}\n`).join('');
    await writeFile(join(ctx.outDir, 'test.jsonl'), rows);
    return ok({ stats: { records: fixture.records.length } });
  },
});

export const checkpointPipeline: Pipeline = {
  kinds: [fixtureDataKind, trainKind, generateKind],
  baseSchema: specBaseSchema,
  // `train.method: none` leaves train out, as the study's chain does for its untuned baseline
  // (the commands that use a variant's model after the study meet both).
  stagesFor: (spec): PipelineStage[] => {
    const tuned = (spec.train as { method?: string } | undefined)?.method !== 'none';
    return [
      { id: 'data', kind: 'fixture-data', inputs: {} },
      ...(tuned
        ? [{ id: 'train', kind: 'train', inputs: { train_set: 'data', images: 'data' } }]
        : []),
      {
        id: 'generate',
        kind: 'generate',
        inputs: { test_set: 'data', images: 'data', ...(tuned && { adapter: 'train' }) },
      },
    ];
  },
};
