import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../runner/run-events.ts';
import { createTracking, syncJournal } from '../../runner/tracking/create-tracking.ts';
import { MlflowClient } from '../../runner/tracking/mlflow-client.ts';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { trackingForRun } from '../../runner/tracking/run-tracking.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import {
  experimentRuns,
  metricHistory,
  params,
  type ReadRun,
  runArtifacts,
  tag,
} from './mlflow-read.ts';
import { startRecordingProxy } from './recording-proxy.ts';
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
  const tracking = await createTracking({
    kinds: studyPipeline.kinds,
    storeDir,
    env,
    server,
    metricFlushMs: 100,
  });
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

  it('tags the experiment so MLflow 3 opens it in the model-training view', async () => {
    const client = new MlflowClient({ url: server.url });
    const experiment = await client.getExperimentByName('tracking-study');
    if (!experiment.ok || !experiment.value) throw new Error('no tracking-study experiment');
    expect(experiment.value.tags).toContainEqual({
      key: 'mlflow.experimentKind',
      value: 'custom_model_development',
    });
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

describe('the REST client against the same server', () => {
  it('splits a big batch within the limits, truncates long values, sanitises keys', async () => {
    const client = new MlflowClient({ url: server.url });
    const experiment = await client.ensureExperiment('client-checks');
    if (!experiment.ok) throw new Error(experiment.error.message);
    const run = await client.createRun({ experimentId: experiment.value, runName: 'big' });
    if (!run.ok) throw new Error(run.error.message);
    const runId = run.value.info.run_id;
    const metrics = Array.from({ length: 2300 }, (_, i) => ({
      key: 'loss@step',
      value: i / 10,
      timestamp: 1000 + i,
      step: i,
    }));
    const params = Array.from({ length: 230 }, (_, i) => ({
      key: `p.${i}`,
      value: i === 0 ? 'x'.repeat(7000) : String(i),
    }));
    const logged = await client.logBatch(runId, { metrics, params, tags: [] });
    expect(logged).toEqual({ ok: true, value: undefined });
    const history = await metricHistory(server.url, runId, 'loss_step');
    expect(history).toHaveLength(2300);
    const read = await client.getRun(runId);
    if (!read.ok) throw new Error(read.error.message);
    expect(read.value.data.params).toHaveLength(230);
    expect(read.value.data.params?.find((p) => p.key === 'p.0')?.value).toHaveLength(6000);
  });

  it('gives an experiment made before the kind tag existed (or set to GenAI) the tags asked for', async () => {
    const client = new MlflowClient({ url: server.url });
    const created = await client.createExperiment('made-as-genai', [
      { key: 'mlflow.experimentKind', value: 'genai_development' },
    ]);
    if (!created.ok) throw new Error(created.error.message);
    const kind = { key: 'mlflow.experimentKind', value: 'custom_model_development' };
    const ensured = await client.ensureExperiment('made-as-genai', [kind]);
    expect(ensured).toEqual({ ok: true, value: created.value });
    const read = await client.getExperimentByName('made-as-genai');
    if (!read.ok || !read.value) throw new Error('experiment vanished');
    expect(read.value.tags?.filter((t) => t.key === kind.key)).toEqual([kind]);
  });

  it('returns a typed rejection for a 4xx and does not retry it', async () => {
    const client = new MlflowClient({ url: server.url });
    const missing = await client.getRun('0123456789abcdef0123456789abcdef');
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.error).toMatchObject({
        reason: 'rejected',
        status: 404,
        errorCode: 'RESOURCE_DOES_NOT_EXIST',
      });
    }
  });

  it('retries 5xx with backoff and reports an unreachable server as such', async () => {
    const proxy = await startRecordingProxy(server.url);
    proxy.failNext = 2;
    try {
      const client = new MlflowClient({ url: proxy.url, retry: { baseDelayMs: 20 } });
      const found = await client.getExperimentByName('client-checks');
      expect(found.ok && found.value?.name).toBe('client-checks');
      expect(proxy.requests).toHaveLength(3);
    } finally {
      await proxy.close();
    }
    const dead = new MlflowClient({ url: proxy.url, retry: { baseDelayMs: 10, maxAttempts: 3 } });
    const res = await dead.getRun('x');
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.reason).toBe('unreachable');
  });

  it('logs to MLFLOW_TRACKING_URI with its credentials instead of starting a server', async () => {
    const proxy = await startRecordingProxy(server.url);
    try {
      const remote = await buildFixture(root, 'remote-study', [
        { name: 'rank-4', rank: 4, steps: trainSteps(4) },
      ]);
      const remoteEnv = {
        ...env,
        MLFLOW_TRACKING_URI: proxy.url,
        MLFLOW_TRACKING_USERNAME: 'alice',
        MLFLOW_TRACKING_PASSWORD: 'correct-horse-battery',
      };
      const tracking = await createTracking({
        kinds: studyPipeline.kinds,
        storeDir,
        env: remoteEnv,
        metricFlushMs: 100,
      });
      if (!tracking.ok) throw new Error(tracking.error.message);
      expect(tracking.value.target).toEqual({ url: proxy.url });
      await driveSweep(tracking.value.observer, remote);
      expect((await tracking.value.close()).pending).toBe(0);
      const basic = `Basic ${Buffer.from('alice:correct-horse-battery').toString('base64')}`;
      expect(proxy.requests.length).toBeGreaterThan(10);
      expect(proxy.requests.every((r) => r.headers.authorization === basic)).toBe(true);
      expect(await experimentRuns(server.url, 'remote-study')).toHaveLength(2);
      const journal = join(storeDir, 'tracking', 'journal');
      expect((await readdir(journal)).some((name) => name.startsWith('remote-'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('run status follows the sweep', () => {
  it('marks a failed stage FAILED and Ctrl-C KILLED, on children and parent', async () => {
    const failing = await buildFixture(root, 'status-study', [
      { name: 'rank-4', rank: 4, steps: trainSteps(4) },
      { name: 'rank-8', rank: 8, steps: trainSteps(8) },
      { name: 'rank-16', rank: 16, steps: trainSteps(16) },
    ]);
    const { sweep } = failing;
    // rank-16's own stages never begin: the scheduler stops before they start.
    const neverBegins = async (observer: Parameters<typeof driveSweep>[0]) => {
      for (const id of ['train-rank-16', 'evaluate-rank-16']) {
        await observer.nodeFinished?.(node(id), {
          state: 'skipped',
          reason: 'the run was stopped',
        });
      }
    };
    const outcome = (id: string) => {
      const produced = failing.outputs.get(id);
      if (!produced) throw new Error(id);
      return {
        state: 'done' as const,
        durationMs: 10,
        outputDir: produced.outputDir,
        summary: { metrics: produced.metrics, artifacts: [] },
      };
    };
    const node = (id: string) => sweep.nodes.find((n) => n.id === id) as NodeInfo;
    await track(async (observer) => {
      await observer.sweepStarted?.(sweep);
      for (const id of [
        'curate',
        'annotate',
        'split',
        'subset',
        'train-rank-8',
        'evaluate-rank-8',
      ]) {
        await observer.nodeFinished?.(node(id), outcome(id));
      }
      await observer.nodeFinished?.(node('train-rank-4'), {
        state: 'failed',
        durationMs: 5,
        reason: 'out-of-memory',
        message: 'CUDA out of memory',
      });
      await observer.nodeFinished?.(node('evaluate-rank-4'), {
        state: 'skipped',
        reason: 'upstream-failed',
      });
      await neverBegins(observer);
      await observer.sweepFinished?.(sweep, 'failed');
    });
    let runs = await experimentRuns(server.url, 'status-study');
    const status = () => Object.fromEntries(runs.map((r) => [r.info.run_name, r.info.status]));
    expect(status()).toEqual({
      'status-study': 'FAILED',
      'rank-4': 'FAILED',
      'rank-8': 'FINISHED',
      // Its shared stages ran for it, then fail-fast stopped it: it ends with the sweep.
      'rank-16': 'FAILED',
    });
    const failed = runs.find((r) => r.info.run_name === 'rank-4') as ReadRun;
    expect(tag(failed, 'dermatune.stage.train.failure')).toBe('out-of-memory: CUDA out of memory');

    // The rerun retries rank-4 (a new attempt), and is interrupted by Ctrl-C while training.
    await track(async (observer) => {
      await observer.sweepStarted?.(sweep);
      for (const id of [
        'curate',
        'annotate',
        'split',
        'subset',
        'train-rank-8',
        'evaluate-rank-8',
      ]) {
        await observer.nodeFinished?.(node(id), { ...outcome(id), state: 'cached' });
      }
      observer.nodeReport?.(node('train-rank-4'), {
        type: 'metric',
        name: 'loss',
        value: 1,
        step: 0,
      });
      await observer.nodeFinished?.(node('train-rank-4'), { state: 'cancelled', durationMs: 3 });
      await neverBegins(observer);
      await observer.sweepFinished?.(sweep, 'killed');
    });
    runs = await experimentRuns(server.url, 'status-study');
    const attempts = runs
      .filter((r) => r.info.run_name === 'rank-4')
      .map((r) => r.info.status)
      .sort();
    expect(attempts).toEqual(['FAILED', 'KILLED']);
    expect(runs.filter((r) => r.info.run_name === 'rank-8')).toHaveLength(1);
    // With its shared stages cached and its own never begun, the rerun made no run for it.
    expect(runs.filter((r) => r.info.run_name === 'rank-16')).toHaveLength(1);
    expect(runs.find((r) => r.info.run_name === 'status-study')?.info.status).toBe('KILLED');
  });
});

describe('trackingForRun, the session `dermatune run` opens', () => {
  it('logs to the configured server and says where the runs are', async () => {
    const cli = await buildFixture(root, 'cli-study', [
      { name: 'rank-4', rank: 4, steps: trainSteps(4) },
    ]);
    const lines: string[] = [];
    const io = {
      env: { ...env, MLFLOW_TRACKING_URI: server.url },
      stderr: (t: string) => lines.push(t),
    };
    const session = await trackingForRun({ ...cli.sweep, storeDir }, io, studyPipeline);
    expect(session.where).toBe(`${server.url}/#/experiments?workflowType=machine_learning`);
    await driveSweep(session.observer, cli);
    await session.close();
    expect(lines).toEqual([]);
    expect(await experimentRuns(server.url, 'cli-study')).toHaveLength(2);
  });

  it('reports an unusable tracking URI and leaves the run untracked', async () => {
    const lines: string[] = [];
    const io = { env: { MLFLOW_TRACKING_URI: 'databricks' }, stderr: (t: string) => lines.push(t) };
    const session = await trackingForRun(fixture.sweep, io, studyPipeline);
    expect(session.where).toBe('not tracked');
    expect(lines.join('')).toContain('over http(s) only');
    const off = await trackingForRun(
      fixture.sweep,
      { env: { DERMATUNE_TRACKING: 'off' }, stderr: () => {} },
      studyPipeline,
    );
    expect(off.where).toContain('not tracked');
  });
});

describe('a run that dies hard', () => {
  it('is ended as KILLED by the next replay, with every journalled step once', async () => {
    const crashRoot = join(root, 'crash');
    await mkdir(crashRoot, { recursive: true });
    const child = spawn(
      process.execPath,
      ['tests/tracking/crashing-run.ts', crashRoot, storeDir, server.url],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe('SIGKILL');

    // The dead process's journal lock goes stale after ~10 s; until then sync leaves it alone.
    const deadline = Date.now() + 30_000;
    let synced = await syncJournal({ storeDir, env, server });
    while (synced.ok && synced.value.busySegments > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1_000));
      synced = await syncJournal({ storeDir, env, server });
    }
    if (!synced.ok) throw new Error(synced.error.message);
    expect(synced.value.busySegments).toBe(0);

    const runs = await experimentRuns(server.url, 'crash-study');
    expect(Object.fromEntries(runs.map((r) => [r.info.run_name, r.info.status]))).toEqual({
      'crash-study': 'KILLED',
      'rank-4': 'KILLED',
    });
    const child4 = runs.find((r) => r.info.run_name === 'rank-4') as ReadRun;
    const loss = await metricHistory(server.url, child4.info.run_id, 'train/loss');
    expect(loss.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);

    // The next run takes the killed variant up again: still one run per variant (not a KILLED
    // twin beside a finished one), every training step logged once.
    const fixture = await buildFixture(crashRoot, 'crash-study', [
      { name: 'rank-4', rank: 4, steps: trainSteps(4) },
    ]);
    const resumed = await createTracking({
      kinds: studyPipeline.kinds,
      storeDir,
      env,
      server,
      metricFlushMs: 50,
    });
    if (!resumed.ok) throw new Error(resumed.error.message);
    await driveSweep(resumed.value.observer, fixture);
    expect((await resumed.value.close()).pending).toBe(0);
    const after = await experimentRuns(server.url, 'crash-study');
    expect(after.map((r) => [r.info.run_name, r.info.status]).sort()).toEqual([
      ['crash-study', 'FINISHED'],
      ['rank-4', 'FINISHED'],
    ]);
    expect(after.find((r) => r.info.run_name === 'rank-4')?.info.run_id).toBe(child4.info.run_id);
    const resumedLoss = await metricHistory(server.url, child4.info.run_id, 'train/loss');
    expect(resumedLoss.map((m) => m.step)).toEqual(
      Array.from({ length: trainSteps(4) }, (_, step) => step),
    );
  });
});
