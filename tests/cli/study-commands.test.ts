import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { studyCommands } from '../../stages/commands.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

function cli(argv: string[], cwd: string) {
  return runCapturedCli(argv, { pipeline: studyPipeline, cwd, extraCommands: studyCommands });
}

describe('dermatune score', () => {
  it('scores a predictions file with the real encoders and prints JSON on request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-score-'));
    await writeFile(
      join(dir, 'p.jsonl'),
      [
        {
          prediction: 'this looks like impetigo',
          reference: 'this looks like impetigo',
          options: ['impetigo', 'psoriasis', 'eczema', 'tinea'],
          answer_index: 0,
        },
        {
          prediction: 'cellulitis of the lower leg',
          reference: 'cellulitis',
          options: ['gout', 'cellulitis', 'deep vein thrombosis', 'eczema'],
          answer_index: 1,
        },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    const result = await cli(['score', 'p.jsonl', '--json'], dir);
    expect(result.code).toBe(0);
    const { metrics } = JSON.parse(result.stdout) as { metrics: Record<string, number> };
    expect(metrics.count).toBe(2);
    // Line 1 is an exact match (F = 1); line 2 has P = 1/5, R = 1/1, so F = 1/3.
    expect(metrics.rouge1).toBeCloseTo((1 + 1 / 3) / 2, 12);
    expect(metrics.accuracy).toBe(1);
    expect(metrics.bertscore_f1).toBeGreaterThan(0.5);
    expect(metrics.bertscore_f1).toBeLessThan(1);
  }, 1_200_000);

  it('refuses a hub encoder it cannot have offline with exit 2, naming the flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-score-'));
    await writeFile(join(dir, 'p.jsonl'), JSON.stringify({ prediction: 'a', reference: 'b' }));
    const result = await runCapturedCli(
      // An id no machine has set up, so the shared models folder cannot hold it.
      ['score', 'p.jsonl', '--bertscore-model', 'dermatune-test/never-published'],
      {
        pipeline: studyPipeline,
        cwd: dir,
        extraCommands: studyCommands,
        env: { HF_HUB_OFFLINE: '1' },
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /encoder 'dermatune-test\/never-published' is not set up locally and hub downloads are off \(HF_HUB_OFFLINE=1\); set --bertscore-model to a local model folder/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the bad line of a malformed file and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-score-'));
    await writeFile(
      join(dir, 'bad.jsonl'),
      '{"prediction": "a", "reference": "b"}\n{"prediction": 3}\n',
    );
    const result = await cli(['score', 'bad.jsonl'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.jsonl:2: `prediction` must be a string');
  });
});

describe('dermatune doctor', () => {
  it('reports the Python worker stack and the stand-in model the demo uses', async () => {
    const result = await cli(['doctor', '--json'], process.cwd());
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      node: string;
      worker: {
        packages: Record<string, string | null>;
        cuda: { available: boolean };
        models: { name: string }[];
      };
    };
    expect(report.node).toMatch(/^v(2[2-9]|[3-9]\d)\./);
    expect(report.worker.packages.torch).toMatch(/^2\.13\.0/);
    expect(report.worker.packages.peft).toBe('0.21.2');
    expect(typeof report.worker.cuda.available).toBe('boolean');
  }, 600_000);

  it('with a spec, estimates the GPU memory of each training stage', async () => {
    const result = await cli(
      ['doctor', 'experiments/paper.yaml', '--only', 'qa-500', '--json'],
      process.cwd(),
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      worker: {
        memory_estimates: { name: string; tiles_per_image: number; description: string }[];
      };
    };
    expect(report.worker.memory_estimates.map((e) => e.name)).toEqual(['train']);
    expect(report.worker.memory_estimates[0]?.tiles_per_image).toBe(17);
    expect(report.worker.memory_estimates[0]?.description).toMatch(
      /^about 2\d\.\d GiB for batch 1, 17 tiles an image/,
    );
  }, 600_000);

  it('estimates a spec whose training sets train.seed (a replicate axis): the job carries no runner-only setting', async () => {
    // SmolVLM-Base's shape is known without a download, so every training gets an estimate.
    const result = await cli(
      ['doctor', 'experiments/replicates.yaml', '--set', 'model.base=HuggingFaceTB/SmolVLM-Base'],
      process.cwd(),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('unknown train settings');
    expect(result.stdout).toContain('GPU memory of the training jobs (an estimate):');
    // Six trainings (two sizes, three seeds); the untuned baseline has none.
    const estimates = result.stdout.split('\n').filter((line) => /^ {2}train\[/.test(line));
    expect(estimates).toHaveLength(6);
    for (const line of estimates) {
      expect(line).toMatch(
        /^ {2}train\[qa-(6|all)@train\.seed=[123]\]: about \d+\.\d GiB for batch 4/,
      );
    }
  }, 600_000);
});
