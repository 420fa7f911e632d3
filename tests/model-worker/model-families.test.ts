import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { trainJob } from '../../stages/model-worker/job-builder.ts';
import { modelFamilies } from '../../stages/model-worker/model-families.ts';
import { defaultTrainSettings } from '../../stages/model-worker/spec-defaults.ts';
import { STAND_IN_NAME } from '../../stages/model-worker/stand-in-model.ts';
import { runWorker } from '../../stages/model-worker/worker-client.ts';
import { baseModelPreflight } from '../../stages/model-worker/worker-preflight.ts';
import { type HubTestServer, startHubTestServer } from '../data/hub-test-server.ts';
import { makeWorkerFixture, type WorkerFixture, workerReady } from './worker-fixture.ts';

/**
 * A model of a family the worker does not support (here Qwen2.5-VL's config.json model_type) is
 * refused by preflight, for a local folder and for a hub repository, and by the worker before
 * it loads anything: the known families are named, never a crash mid-training.
 */
const QWEN = 'Qwen/Qwen2.5-VL-3B-Instruct';
const COMMIT = 'a'.repeat(40);

let dir: string;
let hub: HubTestServer;
let fixture: WorkerFixture;
let python: string;

async function modelFolder(name: string, modelType: string): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify({ model_type: modelType }));
  return folder;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dermatune-families-'));
  const repoRoot = await modelFolder('hub-root', 'qwen2_5_vl');
  hub = await startHubTestServer({
    repo: QWEN,
    repoType: 'model',
    gated: false,
    smallFiles: ['config.json'],
    commit: COMMIT,
    branches: ['main'],
    root: repoRoot,
    token: 'hf_unused',
  });
  ({ python } = await workerReady());
  fixture = await makeWorkerFixture();
}, 600_000);

afterAll(async () => {
  await hub?.close();
});

describe('model families', () => {
  it('preflight passes a folder of a known family and refuses another, naming the known ones', async () => {
    const ctx = preflightContext({ env: {} });
    const smolvlm = await modelFolder('smolvlm', 'idefics3');
    expect(await baseModelPreflight({ base: smolvlm }, ctx)).toContainEqual(
      expect.objectContaining({ subject: `model family of ${smolvlm}`, outcome: 'passed' }),
    );
    const qwen = await modelFolder('qwen', 'qwen2_5_vl');
    const family = (await baseModelPreflight({ base: qwen }, ctx)).find((check) =>
      check.subject.startsWith('model family'),
    );
    expect(family).toMatchObject({ outcome: 'failed', setting: 'model.base' });
    expect(family?.detail).toContain('model_type "qwen2_5_vl"');
    for (const type of Object.keys(modelFamilies())) expect(family?.detail).toContain(type);
    // The stand-ins are built by the worker's own (Idefics3) builders.
    expect((await baseModelPreflight({ base: STAND_IN_NAME }, ctx))[0]?.outcome).toBe('passed');
  });

  it("preflight reads a hub model's config.json at its revision and refuses an unknown family", async () => {
    const ctx = preflightContext({ env: { HF_ENDPOINT: hub.endpoint } });
    const checks = await baseModelPreflight({ base: QWEN, revision: 'main' }, ctx);
    expect(checks[0]).toMatchObject({ part: 'hub', outcome: 'passed' });
    expect(checks[1]).toMatchObject({
      subject: `model family of ${QWEN}`,
      outcome: 'failed',
      setting: 'model.base',
    });
    expect(hub.requests.map((r) => new URL(r.url, hub.endpoint).pathname)).toContain(
      `/${QWEN}/resolve/main/config.json`,
    );
  });

  it('the worker refuses a model of an unknown family before loading it: bad-job, families named', async () => {
    const qwen = await modelFolder('qwen-worker', 'qwen2_5_vl');
    const job = trainJob(
      {
        seed: 1,
        model: { base: qwen, revision: 'main' },
        data: { supervision: 'qa' },
        train: { ...defaultTrainSettings({ epochs: 1 }), method: 'lora' },
      },
      {
        records: fixture.trainFile,
        imageRoot: fixture.imageRoot,
        outDir: join(dir, 'out'),
        modelsDir: join(dir, 'models'),
        resumeDir: undefined,
      },
    );
    if (!job.ok) throw new Error(job.error.message);
    const result = await runWorker(job.value, { python, logFile: join(dir, 'worker.log') });
    expect(result.ok ? 'ok' : result.error.reason).toBe('bad-job');
    if (!result.ok) {
      expect(result.error.message).toContain("is a 'qwen2_5_vl' model");
      expect(result.error.message).toContain('idefics3: SmolVLM (Idefics3)');
    }
  });
});
