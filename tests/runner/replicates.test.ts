import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

const dir = mkdtempSync(join(tmpdir(), 'dermatune-replicates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(argv: string[]) {
  return runCapturedCli(argv, {
    pipeline: studyPipeline,
    cwd: process.cwd(),
    env: { DERMATUNE_STORE: '/nonexistent-store-for-plan' },
  });
}

interface PlanJson {
  variants: string[];
  nodes: { id: string; kind: string; key: string; variants: string[] }[];
}

describe('sweep.replicates', () => {
  it('repeats each variant per training seed over one shared data chain and test set', async () => {
    const plan = await cli(['plan', 'experiments/replicates.yaml', '--json']);
    expect(plan.code).toBe(0);
    const { variants, nodes } = JSON.parse(plan.stdout) as PlanJson;
    expect(variants).toEqual([
      'qa-6@train.seed=1',
      'qa-6@train.seed=2',
      'qa-6@train.seed=3',
      'qa-all@train.seed=1',
      'qa-all@train.seed=2',
      'qa-all@train.seed=3',
      // Nothing the untuned baseline runs reads train.seed: one run, under its own name.
      'baseline-untuned',
    ]);
    const ofKind = (kind: string) => nodes.filter((n) => n.kind === kind);
    for (const kind of ['curate', 'generate-qa', 'split', 'distractors']) {
      expect(ofKind(kind)).toHaveLength(1);
      expect(ofKind(kind)[0]?.variants).toHaveLength(7);
    }
    // The subset of a size is shared by its replicates; training is not.
    expect(ofKind('subset')).toHaveLength(2);
    expect(ofKind('train')).toHaveLength(6);
    expect(ofKind('evaluate')).toHaveLength(7);
  });

  it('--only <variant> selects all its replicates', async () => {
    const plan = await cli(['plan', 'experiments/replicates.yaml', '--only', 'qa-6', '--json']);
    expect(plan.code).toBe(0);
    expect((JSON.parse(plan.stdout) as PlanJson).variants).toEqual([
      'qa-6@train.seed=1',
      'qa-6@train.seed=2',
      'qa-6@train.seed=3',
    ]);
  });

  it('refuses a replicate of an unknown setting, or a single value, naming where', async () => {
    const demo = resolve('experiments/demo.yaml');
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(
      unknown,
      `extends: ${demo}\nname: bad\nsweep:\n  data.train_size: [6]\n  replicates:\n    train.sed: [1, 2]\n`,
    );
    const bad = await cli(['validate', unknown]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sweep.replicates "train.sed" is not a setting of the spec');
    expect(bad.stderr).toContain('did you mean "train.seed"');
    expect(bad.stderr).toContain('unknown.yaml:6');
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const single = join(dir, 'single.yaml');
    writeFileSync(
      single,
      `extends: ${demo}\nname: bad\nsweep:\n  data.train_size: [6]\n  replicates:\n    train.seed: [1]\n`,
    );
    const one = await cli(['validate', single]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('needs a list of at least two values');
  });
});
