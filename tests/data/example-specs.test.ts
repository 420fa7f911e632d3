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
