import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { EVALUATE_OUTPUT } from '../../stages/evaluate/contract.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

// The three example specs of "your own data", run end to end on their committed fixtures with
// the tests' tiny stand-in: a source type each (manifest, Parquet, image folder) through curate,
// split, train and evaluate.

let store: string;
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'dermatune-example-specs-'));
});
afterAll(async () => {
  await rm(store, { recursive: true, force: true });
});

function cli(argv: string[]) {
  return runCapturedCli([...argv, '--store', store], {
    pipeline: studyPipeline,
    cwd: projectRoot(),
    env: {},
  });
}

interface PlannedNode {
  id: string;
  kind: string;
  key: string;
  variants: string[];
}

async function plan(spec: string, extra: string[] = []): Promise<PlannedNode[]> {
  const planned = await cli(['plan', spec, '--json', ...extra]);
  expect(planned.code, planned.stderr).toBe(0);
  return (JSON.parse(planned.stdout) as { nodes: PlannedNode[] }).nodes;
}

async function scores(node: PlannedNode | undefined) {
  const file = join(store, 'stages', node?.key ?? 'none', 'output', EVALUATE_OUTPUT.metrics);
  return JSON.parse(await readFile(file, 'utf8')) as {
    count: number;
    accuracy: { overall: { n: number } };
  };
}

const LLM_KINDS = ['annotate', 'annotate-keywords', 'generate-qa', 'clean-qa', 'distractors'];

describe('experiments/score-only.yaml', () => {
  it('scores an untuned model on every question of the test set with no LLM and no training', async () => {
    const spec = 'experiments/score-only.yaml';
    const nodes = await plan(spec);
    expect(nodes.map((n) => n.kind).filter((k) => LLM_KINDS.includes(k) || k === 'train')).toEqual(
      [],
    );
    const run = await cli(['run', spec, '--only', 'tiny-smolvlm-standin', '--no-tracking']);
    expect(run.code, run.stderr).toBe(0);
    const evaluated = await scores(nodes.find((n) => n.id === 'evaluate[tiny-smolvlm-standin]'));
    // test_fraction 1: all 32 QA pairs of the manifest are scored, each with its options.
    expect([evaluated.count, evaluated.accuracy.overall.n]).toEqual([32, 32]);
    // Nothing was asked of an LLM: no call was memoised.
    await expect(access(join(store, 'memo'))).rejects.toThrow();
  }, 900_000);
});

describe('a JSONL manifest', () => {
  it('also trains: the score-only test set split in half tunes the tiny stand-in', async () => {
    const spec = 'experiments/score-only.yaml';
    const train = [
      '--set',
      'data.test_fraction=0.5',
      '--set',
      'train.method=lora',
      '--set',
      'train.image_size=64',
      '--set',
      'train.max_seq_length=128',
      '--set',
      'train.batch_size=4',
      '--only',
      'tiny-smolvlm-standin',
    ];
    const nodes = await plan(spec, train);
    const run = await cli(['run', spec, ...train, '--no-tracking']);
    expect(run.code, run.stderr).toBe(0);
    const trained = nodes.find((n) => n.kind === 'train');
    await expect(
      access(join(store, 'stages', trained?.key ?? 'none', 'manifest.json')),
    ).resolves.toBe(undefined);
    const evaluated = await scores(nodes.find((n) => n.kind === 'evaluate'));
    expect(evaluated.count).toBeGreaterThan(0);
    expect(evaluated.count).toBeLessThan(32);
  }, 900_000);
});

describe('experiments/vqa-set.yaml', () => {
  it('tunes the tiny stand-in on a Parquet set that brings its own QA pairs, and scores it, with no LLM', async () => {
    const spec = 'experiments/vqa-set.yaml';
    const tiny = ['--set', 'model.base=tiny-smolvlm-standin'];
    const nodes = await plan(spec, tiny);
    expect(nodes.map((n) => n.kind).filter((k) => LLM_KINDS.includes(k))).toEqual([]);
    const run = await cli(['run', spec, ...tiny, '--only', 'all', '--no-tracking']);
    expect(run.code, run.stderr).toBe(0);
    for (const id of ['train[all]', 'evaluate[all]']) {
      const node = nodes.find((n) => n.id === id);
      await expect(
        access(join(store, 'stages', node?.key ?? 'none', 'manifest.json')),
      ).resolves.toBe(undefined);
    }
    const evaluated = await scores(nodes.find((n) => n.id === 'evaluate[all]'));
    expect(evaluated.count).toBeGreaterThan(0);
    await expect(access(join(store, 'memo'))).rejects.toThrow();
  }, 900_000);
});

describe('experiments/own-images.yaml', () => {
  it('labels by the diagnoses, asks the local LLM for QA pairs, and keeps each patient on one side of the split', async () => {
    const spec = 'experiments/own-images.yaml';
    // Ten photographs, one question each, and the tiny stand-in keep the local LLM's part short.
    const small = [
      '--set',
      'model.base=tiny-smolvlm-standin',
      '--set',
      'data.limit=10',
      '--set',
      'data.questions_per_image=1',
    ];
    const nodes = await plan(spec, small);
    const kinds = nodes.map((n) => n.kind);
    expect(kinds.filter((k) => k.startsWith('annotate'))).toEqual([]);
    expect(kinds).toContain('generate-qa');
    const run = await cli(['run', spec, ...small, '--only', 'qa', '--no-tracking']);
    expect(run.code, run.stderr).toBe(0);
    const split = nodes.find((n) => n.id === 'split');
    const side = async (name: string) =>
      (await readFile(join(store, 'stages', split?.key ?? 'none', 'output', name), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { article_id: string }).article_id);
    const train = new Set(await side('train.jsonl'));
    const test = new Set(await side('test.jsonl'));
    expect(train.size).toBeGreaterThan(0);
    expect(test.size).toBeGreaterThan(0);
    expect([...test].filter((patient) => train.has(patient))).toEqual([]);
    const evaluated = await scores(nodes.find((n) => n.id === 'evaluate[qa]'));
    expect(evaluated.count).toBeGreaterThan(0);
  }, 1_800_000);
});

describe('a source the run cannot use', () => {
  it('exits 2 before running anything, with one line naming the setting and the nearest column', async () => {
    const run = await cli([
      'run',
      'experiments/own-images.yaml',
      '--set',
      'data.columns.caption=txet',
      '--no-tracking',
    ]);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((line) => line.includes('txet'));
    expect(lines).toEqual([
      'data.columns.caption: data image folder: tests/fixtures/own-images/metadata.csv has no column "txet"; did you mean "text"? (its columns: file_name, text, patient_id, diagnosis)',
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a table source's settings with BIOMEDICA's shards, which have no such columns", async () => {
    const result = await cli([
      'validate',
      'experiments/demo.yaml',
      '--set',
      'data.labeller=from_source',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "error: data.labeller takes the source's own labels, and a BIOMEDICA source (data.source.type local) has none",
    );
  });
});
