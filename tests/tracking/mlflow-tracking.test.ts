import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracking } from '../../runner/tracking/create-tracking.ts';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import {
  experimentRuns,
  metricHistory,
  params,
  type ReadRun,
  runArtifacts,
  tag,
} from './mlflow-read.ts';
import {
  buildFixture,
  driveSweep,
  type Fixture,
  PLANTED_SECRET,
  trainSteps,
} from './sweep-fixture.ts';

const env = { ...process.env, TEST_SERVICE_TOKEN: PLANTED_SECRET, MLFLOW_TRACKING_URI: '' };
let root: string;
let storeDir: string;
let server: TrackingServer;
let fixture: Fixture;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-tracking-'));
  storeDir = join(root, 'store');
  const started = await startTrackingServer({ storeDir });
  if (!started.ok) throw new Error(started.error.message);
  server = started.value;
  fixture = await buildFixture(root, 'tracking-study', [
    { name: 'rank-4', rank: 4, steps: trainSteps(4) },
    { name: 'rank-8', rank: 8, steps: trainSteps(8) },
  ]);
});

afterAll(async () => {
  await server?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function track(run: (observer: Parameters<typeof driveSweep>[0]) => Promise<void>) {
  const tracking = await createTracking({ storeDir, env, server, metricFlushMs: 100 });
  if (!tracking.ok) throw new Error(tracking.error.message);
  await run(tracking.value.observer);
  return tracking.value.close();
}

describe('a sweep tracked in a real MLflow server', () => {
  let runs: ReadRun[];
  let streamedBeforeTrainingEnded = 0;

  beforeAll(async () => {
    const report = await track((observer) =>
      driveSweep(observer, fixture, {
        midTraining: async (variant) => {
          if (variant !== 'rank-4') return;
          // Step metrics must reach MLflow while training runs, not when it ends.
          const deadline = Date.now() + 10_000;
          while (Date.now() < deadline && streamedBeforeTrainingEnded === 0) {
            await new Promise((r) => setTimeout(r, 200));
            const found = await experimentRuns(server.url, 'tracking-study').catch(() => []);
            const child = found.find((r) => r.info.run_name === 'rank-4');
            if (child) {
              streamedBeforeTrainingEnded = (
                await metricHistory(server.url, child.info.run_id, 'train/loss')
              ).length;
            }
          }
        },
      }),
    );
    expect(report.pending).toBe(0);
    runs = await experimentRuns(server.url, 'tracking-study');
  });

  it('shows one parent with one child per variant, named and finished', () => {
    const parents = runs.filter((r) => tag(r, 'dermatune.role') === 'sweep');
    const children = runs.filter((r) => tag(r, 'dermatune.role') === 'variant');
    expect(parents).toHaveLength(1);
    const parent = parents[0] as ReadRun;
    expect(parent.info.status).toBe('FINISHED');
    expect(children.map((c) => c.info.run_name).sort()).toEqual(['rank-4', 'rank-8']);
    for (const child of children) {
      expect(tag(child, 'mlflow.parentRunId')).toBe(parent.info.run_id);
      expect(child.info.status).toBe('FINISHED');
      expect(tag(child, 'mlflow.note.content')).toMatch(
        /^LoRA rank \d; the key \[redacted\] must never show$/,
      );
      expect(tag(child, 'mlflow.source.git.commit')).toMatch(/^[0-9a-f]{40}$/);
      expect(tag(child, 'mlflow.source.git.branch')).toBeTruthy();
      expect(tag(child, 'mlflow.user')).toBeTruthy();
      expect(tag(child, 'mlflow.source.name')).toContain('tracking-study.yaml');
    }
  });

  it('logs the resolved spec as dotted params and the axis values as tags', () => {
    const child = runs.find((r) => r.info.run_name === 'rank-8') as ReadRun;
    expect(params(child)).toEqual({
      name: 'tracking-study',
      seed: '7',
      'data.categories': '["Bacterial Infections"]',
      'data.test_fraction': '0.25',
      'data.train_size': 'all',
      'llm.provider': 'local',
      'llm.api_key_env': 'TEST_SERVICE_TOKEN',
      'llm.api_key': '[redacted]',
      'llm.max_output_tokens': '256',
      'train.method': 'lora',
      'train.lora.rank': '8',
      'train.lora.alpha': '16',
      'train.lora.dropout': '0.05',
      'train.epochs': '1',
    });
    expect(tag(child, 'axis.train.lora.rank')).toBe('8');
    expect(tag(child, 'dermatune.stage.train.key')).toBe('k-train-8');
  });

  it('streams per-step training metrics while training runs, each step once', async () => {
    expect(streamedBeforeTrainingEnded).toBeGreaterThan(0);
    for (const [name, rank] of [
      ['rank-4', 4],
      ['rank-8', 8],
    ] as const) {
      const child = runs.find((r) => r.info.run_name === name) as ReadRun;
      const loss = await metricHistory(server.url, child.info.run_id, 'train/loss');
      expect(loss.map((m) => m.step)).toEqual([...Array(trainSteps(rank)).keys()]);
      expect(loss.map((m) => m.value)).toEqual(loss.map((m) => fixture.lossAt(name, m.step)));
      const lr = await metricHistory(server.url, child.info.run_id, 'train/learning_rate');
      expect(lr).toHaveLength(trainSteps(rank));
    }
  });

  it('logs stage summaries under their prefixes, and stage durations', () => {
    const child = runs.find((r) => r.info.run_name === 'rank-4') as ReadRun;
    const latest = Object.fromEntries((child.data.metrics ?? []).map((m) => [m.key, m.value]));
    expect(latest).toMatchObject({
      'eval/bleu': 0.4,
      'eval/rougeL': 0.2 + 4 / 100,
      'llm/annotate/input_tokens': 1200,
      'llm/annotate/cost_usd': 0.0125,
      'curate/records': 4,
      'duration_s/train': 1.5,
      'duration_s/evaluate': 1.5,
    });
  });

  it('uploads the stage artifacts and the resolved spec, with the secret cut out', async () => {
    const child = runs.find((r) => r.info.run_name === 'rank-4') as ReadRun;
    const files = await runArtifacts(server.url, child);
    expect([...files.keys()].sort()).toEqual([
      'annotate/annotations.jsonl',
      'curate/records.jsonl',
      'evaluate/metrics.json',
      'evaluate/predictions.jsonl',
      'spec/variant.json',
      'train/adapter/adapter_config.json',
      'train/adapter/adapter_model.safetensors',
    ]);
    expect(files.get('evaluate/predictions.jsonl')).toBe('{"answer":"ok","debug":"[redacted]"}\n');
    expect(JSON.parse(files.get('spec/variant.json') as string).train.lora).toEqual({
      rank: 4,
      alpha: 8,
      dropout: 0.05,
    });
    const parent = runs.find((r) => tag(r, 'dermatune.role') === 'sweep') as ReadRun;
    expect([...(await runArtifacts(server.url, parent)).keys()]).toEqual([
      'spec/tracking-study.yaml',
    ]);
  });

  it('logs the train and test sets as dataset inputs with their digests', async () => {
    const child = runs.find((r) => r.info.run_name === 'rank-8') as ReadRun;
    const inputs = child.inputs?.dataset_inputs ?? [];
    const byContext = Object.fromEntries(
      inputs.map((i) => [i.tags?.find((t) => t.key === 'mlflow.data.context')?.value, i.dataset]),
    );
    const digest = async (id: string, file: string) =>
      createHash('sha256')
        .update(await readFile(join(fixture.outputs.get(id)?.outputDir as string, file)))
        .digest('hex')
        .slice(0, 16);
    expect(Object.keys(byContext).sort()).toEqual(['test', 'train']);
    expect(byContext.train?.digest).toBe(await digest('subset', 'train.jsonl'));
    expect(byContext.test?.digest).toBe(await digest('split', 'test.jsonl'));
    expect(JSON.parse(byContext.train?.profile as string)).toEqual({ num_rows: 2 });
  });

  it('a fully cached rerun adds no runs; an added variant appears once beside the others', async () => {
    const before = await experimentRuns(server.url, 'tracking-study');
    await track((observer) => driveSweep(observer, fixture, { cached: () => true }));
    const afterCached = await experimentRuns(server.url, 'tracking-study');
    expect(afterCached.map((r) => r.info.run_id).sort()).toEqual(
      before.map((r) => r.info.run_id).sort(),
    );

    const grown = await buildFixture(root, 'tracking-study', [
      { name: 'rank-4', rank: 4, steps: trainSteps(4) },
      { name: 'rank-8', rank: 8, steps: trainSteps(8) },
      { name: 'rank-16', rank: 16, steps: trainSteps(16) },
    ]);
    await track((observer) =>
      driveSweep(observer, grown, { cached: (n) => !n.id.endsWith('rank-16') }),
    );
    const afterGrown = await experimentRuns(server.url, 'tracking-study');
    expect(afterGrown).toHaveLength(before.length + 1);
    const parent = afterGrown.find((r) => tag(r, 'dermatune.role') === 'sweep') as ReadRun;
    const added = afterGrown.find((r) => r.info.run_name === 'rank-16') as ReadRun;
    expect(tag(added, 'mlflow.parentRunId')).toBe(parent.info.run_id);
    expect(added.info.status).toBe('FINISHED');
    const latest = Object.fromEntries((added.data.metrics ?? []).map((m) => [m.key, m.value]));
    // Shared upstream stages came from the cache, and still count for the new variant.
    expect(latest['llm/annotate/cost_usd']).toBe(0.0125);
    expect(latest['eval/bleu']).toBe(1.6);
  });

  it('never lets the planted secret reach MLflow or the journal', async () => {
    const all = await experimentRuns(server.url, 'tracking-study');
    expect(JSON.stringify(all)).not.toContain(PLANTED_SECRET);
    for (const run of all) {
      for (const text of (await runArtifacts(server.url, run)).values()) {
        expect(text).not.toContain(PLANTED_SECRET);
      }
    }
    // Everything tracking wrote on disk: the database, artifacts, journal, refs, links, blobs.
    const files = await readdir(join(storeDir, 'tracking'), {
      recursive: true,
      withFileTypes: true,
    });
    let scanned = 0;
    for (const file of files.filter((f) => f.isFile())) {
      const bytes = await readFile(join(file.parentPath, file.name));
      expect(bytes.includes(PLANTED_SECRET), join(file.parentPath, file.name)).toBe(false);
      scanned += 1;
    }
    expect(scanned).toBeGreaterThan(10);
  });
});
