import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalOp } from '../../runner/tracking/journal-entry.ts';
import { MlflowObserver } from '../../runner/tracking/mlflow-observer.ts';
import { RunLinks } from '../../runner/tracking/tracking-state.ts';
import { buildFixture, driveSweep, type Fixture } from './sweep-fixture.ts';

let root: string;
let fixture: Fixture;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-stage-tags-'));
  fixture = await buildFixture(root, 'tags-study', [
    { name: 'r4', rank: 4, steps: 12 },
    { name: 'r8', rank: 8, steps: 8 },
  ]);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('stage summary tags', () => {
  it('are logged as dermatune.stage.<kind>.<name> tags of every variant run the stage belongs to', async () => {
    const ops: JournalOp[] = [];
    const observer = new MlflowObserver({
      record: async (op) => {
        ops.push(op);
      },
      links: await RunLinks.load(join(root, 'journal')),
      blobsDir: join(root, 'blobs'),
      secretValues: [],
      sourceTags: async () => [],
      userId: 'tester',
    });
    await driveSweep(observer, fixture, {
      tags: (node) =>
        node.kind === 'annotate' ? { 'llm.model_version': 'gemini-3.6-flash-001' } : undefined,
    });
    const tagged = ops.flatMap((op) =>
      op.op === 'log-batch'
        ? op.tags
            .filter((t) => t.key === 'dermatune.stage.annotate.llm.model_version')
            .map(() => op.ref)
        : [],
    );
    // The annotate node is shared by both variants: each variant's run carries the tag.
    expect(new Set(tagged).size).toBe(2);
    const values = ops.flatMap((op) =>
      op.op === 'log-batch' ? op.tags.filter((t) => t.key.endsWith('.llm.model_version')) : [],
    );
    expect(values.every((t) => t.value === 'gemini-3.6-flash-001')).toBe(true);
  });
});
