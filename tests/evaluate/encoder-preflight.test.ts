import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { projectRoot } from '../../runner/project-root.ts';
import type { EvaluateParams } from '../../stages/evaluate/contract.ts';
import { encoderFingerprints } from '../../stages/evaluate/encoders/encoder-fingerprints.ts';
import { encoderPreflight } from '../../stages/evaluate/encoders/encoder-preflight.ts';
import { evaluateKind } from '../../stages/evaluate/kind.ts';
import { type HubTestServer, startHubTestServer } from '../data/hub-test-server.ts';

const FIXTURE = join(projectRoot(), 'tests/fixtures/encoders/tiny-roberta');
const REPO = 'dermatune-test/tiny-roberta';
const COMMIT = 'feed000000000000000000000000000000000003';
const TOKEN = 'hf_preflight';
const modelsDir = mkdtempSync(join(tmpdir(), 'dermatune-preflight-'));

function params(bertscore: string, revision?: string): EvaluateParams {
  return {
    seed: 42,
    eval: {
      bleu: { smooth: false },
      rouge: { use_stemmer: false },
      bertscore: {
        model: bertscore,
        rescale_with_baseline: false,
        idf: false,
        ...(revision ? { revision } : {}),
      },
      encoder: { model: 'all-MiniLM-L6-v2' },
    },
  };
}

let hub: HubTestServer | undefined;
async function start(): Promise<HubTestServer> {
  hub = await startHubTestServer({
    repo: REPO,
    repoType: 'model',
    commit: COMMIT,
    branches: ['main'],
    root: FIXTURE,
    token: TOKEN,
    gated: true,
    smallFiles: ['config.json', 'tokenizer.json'],
  });
  return hub;
}
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});
afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

describe('the encoder preflight', () => {
  test('passes packaged encoders without asking anyone', async () => {
    const checks = await encoderPreflight(params('all-MiniLM-L6-v2'), { env: {}, modelsDir });
    expect(checks.map((c) => [c.subject, c.outcome])).toEqual([
      ['all-MiniLM-L6-v2 (eval.bertscore.model)', 'passed'],
      ['all-MiniLM-L6-v2 (eval.encoder.model)', 'passed'],
    ]);
  });

  test('a hub encoder the token may read: downloadable, with the commit and the bytes', async () => {
    const server = await start();
    const [check] = await encoderPreflight(params(REPO), {
      env: { HF_ENDPOINT: server.endpoint, HF_TOKEN: TOKEN },
      modelsDir,
    });
    expect(check).toMatchObject({ part: 'encoder', outcome: 'passed' });
    expect(check?.detail).toMatch(
      new RegExp(`^downloadable: ${REPO}@${COMMIT}, 7 files, \\d+ bytes to download$`),
    );
    // The revision API, then one HEAD per file, none of them a download.
    expect(server.requests.filter((r) => r.method === 'GET').map((r) => r.url)).toEqual([
      `/api/models/${REPO}/revision/main`,
    ]);
  });

  test('a gated hub encoder without a token fails on HF_TOKEN', async () => {
    const server = await start();
    const [check] = await encoderPreflight(params(REPO), {
      env: { HF_ENDPOINT: server.endpoint },
      modelsDir,
    });
    expect(check).toMatchObject({ outcome: 'failed', setting: 'HF_TOKEN' });
    expect(check?.detail).toMatch(/HTTP 401 GatedRepo: set HF_TOKEN to a token with access/);
  });

  test('an unknown revision fails on the model setting', async () => {
    const server = await start();
    const [check] = await encoderPreflight(params(REPO, 'v9'), {
      env: { HF_ENDPOINT: server.endpoint, HF_TOKEN: TOKEN },
      modelsDir,
    });
    expect(check).toMatchObject({
      subject: `${REPO}@v9 (eval.bertscore.model)`,
      outcome: 'failed',
      setting: 'eval.bertscore.model',
    });
    expect(check?.detail).toMatch(/RevisionNotFound/);
  });

  test('offline, a hub encoder never set up here fails, saying how to provide it', async () => {
    const checks = await encoderPreflight(params('roberta-large'), {
      env: { HF_HUB_OFFLINE: '1' },
      modelsDir,
    });
    expect(checks[0]).toMatchObject({ outcome: 'failed', setting: 'eval.bertscore.model' });
    expect(checks[0]?.detail).toMatch(
      /hub downloads are off \(HF_HUB_OFFLINE=1\); set eval\.bertscore\.model to a local model folder/,
    );
  });

  test('an unreachable hub fails on the model setting, saying how to do without it', async () => {
    const server = await start();
    const endpoint = server.endpoint;
    await server.close();
    hub = undefined;
    const [check] = await encoderPreflight(params(REPO), {
      env: { HF_ENDPOINT: endpoint },
      modelsDir,
    });
    expect(check).toMatchObject({ outcome: 'failed', setting: 'eval.bertscore.model' });
    expect(check?.detail).toContain(
      `encoder '${REPO}': ${endpoint}/api/models/${REPO}/revision/main`,
    );
    expect(check?.detail).toMatch(/set eval\.bertscore\.model to a local model folder/);
  });

  test("is the evaluate kind's preflight hook, one proof shared by the sweep's stages", async () => {
    const ctx = preflightContext({ env: {} });
    const checks = await evaluateKind.preflight?.(params('not a model id!'), ctx);
    expect(checks?.filter((c) => c.outcome === 'failed')).toEqual([
      expect.objectContaining({
        part: 'encoder',
        setting: 'eval.bertscore.model',
        detail: expect.stringMatching(/encoder 'not a model id!' is neither/),
      }),
    ]);
    // A second evaluate stage of the sweep gets the same result without asking again.
    expect(await evaluateKind.preflight?.(params('not a model id!'), ctx)).toBe(checks);
  });
});

describe("the evaluate stage's key", () => {
  test('packaged encoders add nothing to it', async () => {
    expect(await encoderFingerprints(params('all-MiniLM-L6-v2'), { env: {}, modelsDir })).toEqual(
      {},
    );
    expect(await evaluateKind.fingerprints?.(params('all-MiniLM-L6-v2'), { fresh: true })).toEqual(
      {},
    );
  });

  test('a hub encoder on a branch carries the commit the hub resolves it to', async () => {
    const server = await start();
    const prints = await encoderFingerprints(params(REPO), {
      env: { HF_ENDPOINT: server.endpoint },
      modelsDir,
    });
    expect(prints).toEqual({ 'eval.bertscore.model': `${REPO}@${COMMIT}` });
  });

  test('a pinned commit is its own fingerprint, offline too; an unknown branch says unresolved', async () => {
    const pinned = 'abcdef0123456789abcdef0123456789abcdef01';
    const offline = { env: { HF_HUB_OFFLINE: '1' }, modelsDir };
    expect(await encoderFingerprints(params(REPO, pinned), offline)).toEqual({
      'eval.bertscore.model': `${REPO}@${pinned}`,
    });
    expect(await encoderFingerprints(params(REPO), offline)).toEqual({
      'eval.bertscore.model': `${REPO}@main (unresolved)`,
    });
  });
});
