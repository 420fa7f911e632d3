import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { experimentRuns, mlflowGet, tag } from '../tracking/mlflow-read.ts';
import { makeTrainedStore, type TrainedStore } from './trained-store.ts';

/**
 * `dermatune export --register` against a real MLflow server that the study's run was tracked
 * on: a version of the registered model pointing at the adapter the variant's run logged, with
 * the variant's stage keys, read back through MLflow's own REST API.
 */
let server: TrackingServer;
let trained: TrainedStore;

beforeAll(async () => {
  const started = await startTrackingServer({
    storeDir: await mkdtemp(join(tmpdir(), 'dermatune-mlflow-')),
  });
  if (!started.ok) throw new Error(started.error.message);
  server = started.value;
  trained = await makeTrainedStore({ trackingUri: server.url });
}, 1_200_000);

afterAll(async () => {
  await server?.stop();
});

interface ModelVersion {
  name: string;
  version: string;
  source: string;
  run_id: string;
  tags?: { key: string; value: string }[];
}

describe('dermatune export --register', () => {
  it("adds a model version that points at the variant's logged adapter and carries its stage keys", async () => {
    const before = await trained.snapshot();
    const first = await trained.cli([
      'export',
      'trained.yaml',
      '--variant',
      'lora',
      '--register',
      'skin-lora',
      '--json',
    ]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).registered).toMatchObject({ name: 'skin-lora', version: '1' });
    // Registering reads the store; only tracking's own files (outside stages/) may change.
    expect((await trained.snapshot()).filter((l) => l.startsWith('stages'))).toEqual(
      before.filter((l) => l.startsWith('stages')),
    );

    const runs = await experimentRuns(server.url, 'trained-store');
    const lora = runs.find(
      (r) => tag(r, 'dermatune.variant') === 'lora' && tag(r, 'dermatune.role') === 'variant',
    );
    if (!lora) throw new Error('no run of variant lora');
    const { model_version: version } = await mlflowGet<{ model_version: ModelVersion }>(
      server.url,
      '/api/2.0/mlflow/model-versions/get',
      { name: 'skin-lora', version: '1' },
    );
    expect(version.run_id).toBe(lora.info.run_id);
    expect(version.source).toBe(`${lora.info.artifact_uri}/train/adapter`);
    const tags = new Map((version.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags.get('dermatune.stage.train.key')).toBe(tag(lora, 'dermatune.stage.train.key'));
    expect(tags.get('dermatune.stage.generate.key')).toMatch(/^[0-9a-f]{64}$/);
    expect(tags.get('dermatune.variant')).toBe('lora');
    // The version's source holds the adapter the run logged.
    const { files } = await mlflowGet<{ files?: { path: string }[] }>(
      server.url,
      '/api/2.0/mlflow/artifacts/list',
      { run_id: lora.info.run_id, path: 'train/adapter' },
    );
    expect((files ?? []).map((f) => f.path)).toContain('train/adapter/adapter_model.safetensors');

    const second = await trained.cli([
      'export',
      'trained.yaml',
      '--variant',
      'lora',
      '--register',
      'skin-lora',
      '--json',
    ]);
    expect(JSON.parse(second.stdout).registered.version).toBe('2');
  }, 600_000);

  it('says in one line, exit 2, when the registry refuses', async () => {
    const result = await trained.cli([
      'export',
      'trained.yaml',
      '--variant',
      'lora',
      '--register',
      'skin/lora',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^--register skin\/lora: the model registry at http:\/\/127\.0\.0\.1:\d+ refused: INVALID_PARAMETER_VALUE: .*cannot contain '\/'/,
    );
  }, 120_000);

  it('refuses an untuned variant, which has no adapter', async () => {
    const result = await trained.cli([
      'export',
      'trained.yaml',
      '--variant',
      'none',
      '--register',
      'skin-lora',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      '--register skin-lora: variant none is untuned: it has no adapter to register\n',
    );
  });
});
