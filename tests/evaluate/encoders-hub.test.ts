import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { downloadHubFile } from '../../stages/biomedica/hub-download.ts';
import { ensureEncoderModel } from '../../stages/evaluate/encoders/ensure-encoder-model.ts';
import {
  downloadHubModel,
  hubModelDownloadBytes,
  resolveHubModel,
  snapshotFolder,
} from '../../stages/evaluate/encoders/hub-model.ts';
import { hubAccess } from '../../stages/shared/hub-access.ts';
import { type Fault, type HubTestServer, startHubTestServer } from '../data/hub-test-server.ts';

// The tiny RoBERTa fixture published as a model repository on the local hub-protocol server:
// the weights in LFS (a 302 to the CDN origin), the rest small git files answered by the hub.
const FIXTURE = join(projectRoot(), 'tests/fixtures/encoders/tiny-roberta');
const REPO = 'dermatune-test/tiny-roberta';
const COMMIT = 'c0ffee0000000000000000000000000000000001';
const TOKEN = 'hf_test_token';
const SMALL = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
];
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 };

const caches: string[] = [];
function cacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dermatune-hub-model-'));
  caches.push(dir);
  return dir;
}

let server: HubTestServer | undefined;
async function start(options: { gated?: boolean; faults?: Record<string, Fault[]> } = {}) {
  server = await startHubTestServer({
    repo: REPO,
    repoType: 'model',
    commit: COMMIT,
    branches: ['main'],
    root: FIXTURE,
    token: TOKEN,
    gated: options.gated ?? false,
    renamedFrom: ['tiny-roberta'],
    smallFiles: SMALL,
    faults: options.faults,
  });
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => {
  for (const dir of caches) rmSync(dir, { recursive: true, force: true });
});

const log = () => {};

describe('a hub encoder repository over the hub protocol', () => {
  test('resolves a renamed id to the new repo and its commit, with the files the export reads', async () => {
    const hub = await start();
    const resolved = await resolveHubModel('tiny-roberta', 'main', { endpoint: hub.endpoint });
    if (!resolved.ok) throw new Error(resolved.error.message);
    expect(resolved.value).toEqual({
      repo: REPO,
      commit: COMMIT,
      files: [
        'config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'special_tokens_map.json',
        'vocab.json',
        'merges.txt',
        'model.safetensors',
      ],
    });
    expect(hub.requests.map((r) => r.status)).toEqual([307, 200]);
  });

  test('downloads every file: the weights from the CDN origin without the token, verified', async () => {
    const hub = await start({ gated: true });
    const access = { endpoint: hub.endpoint, token: TOKEN };
    const resolved = await resolveHubModel(REPO, 'main', access);
    if (!resolved.ok) throw new Error(resolved.error.message);
    const cache = cacheDir();
    const snapshot = await downloadHubModel(resolved.value, access, { cacheDir: cache, log });
    if (!snapshot.ok) throw new Error(snapshot.error.message);
    expect(snapshot.value).toBe(snapshotFolder(cache, REPO, COMMIT));
    for (const file of resolved.value.files) {
      expect(readFileSync(join(snapshot.value, file))).toEqual(readFileSync(join(FIXTURE, file)));
    }
    const weights = hub.requests.filter(
      (r) => r.url.endsWith('model.safetensors') || r.url.startsWith('/cdn/'),
    );
    expect(weights.map((r) => r.status)).toEqual([302, 200]);
    // The token goes to the hub, never to the CDN's signed URL.
    expect(weights[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(weights[1]?.authorization).toBeUndefined();
    // A second download of the same commit is served from the cache.
    const before = hub.requests.length;
    const again = await downloadHubModel(resolved.value, access, { cacheDir: cache, log });
    expect(again.ok).toBe(true);
    expect(hub.requests.length).toBe(before);
  });

  test("follows a renamed repo's redirect on the hub with the token, then the CDN without it", async () => {
    const hub = await start({ gated: true });
    const cache = cacheDir();
    const file = await downloadHubFile({
      endpoint: hub.endpoint,
      repo: 'tiny-roberta',
      repoType: 'model',
      revision: COMMIT,
      path: 'model.safetensors',
      token: TOKEN,
      cacheDir: cache,
    });
    if (!file.ok) throw new Error(file.error.message);
    expect(readFileSync(file.value.file)).toEqual(readFileSync(join(FIXTURE, 'model.safetensors')));
    expect(hub.requests.map((r) => [r.status, r.authorization !== undefined])).toEqual([
      [307, true],
      [302, true],
      [200, false],
    ]);
  });

  test('resumes the weights with a Range request after the connection is cut', async () => {
    const hub = await start({
      faults: { 'model.safetensors': [{ type: 'drop-after', bytes: 400_000 }] },
    });
    const access = { endpoint: hub.endpoint };
    const resolved = await resolveHubModel(REPO, COMMIT, access);
    if (!resolved.ok) throw new Error(resolved.error.message);
    const lines: string[] = [];
    const snapshot = await downloadHubModel(resolved.value, access, {
      cacheDir: cacheDir(),
      log: (line) => lines.push(line),
      retry: FAST_RETRY,
    });
    if (!snapshot.ok) throw new Error(snapshot.error.message);
    const cdn = hub.requests.filter((r) => r.url.startsWith('/cdn/'));
    expect(cdn.map((r) => [r.status, r.range])).toEqual([
      [200, undefined],
      [206, 'bytes=400000-'],
    ]);
    expect(readFileSync(join(snapshot.value, 'model.safetensors'))).toEqual(
      readFileSync(join(FIXTURE, 'model.safetensors')),
    );
    // A public repo's small files come from their commit-pinned copy, after a 307 on the hub.
    const config = hub.requests.filter((r) => r.url.split('?')[0]?.endsWith('/config.json'));
    expect(config.map((r) => [r.status, r.url.split('?')[0]])).toEqual([
      [307, `/${REPO}/resolve/${COMMIT}/config.json`],
      [200, `/api/resolve-cache/models/${REPO}/${COMMIT}/config.json`],
    ]);
    // Progress is reported as the weights arrive, up to the whole file.
    expect(lines.some((l) => /model\.safetensors: 3\.3 of 3\.3 MB/.test(l))).toBe(true);
  });

  test('a gated repo: its card resolves without a token, its files answer 401 GatedRepo', async () => {
    const hub = await start({ gated: true });
    const anonymous = { endpoint: hub.endpoint };
    const resolved = await resolveHubModel(REPO, 'main', anonymous);
    if (!resolved.ok) throw new Error(resolved.error.message);
    const bytes = await hubModelDownloadBytes(resolved.value, anonymous);
    expect(bytes.ok).toBe(false);
    if (!bytes.ok) {
      expect(bytes.error.reason).toBe('hub-unauthorized');
      expect(bytes.error.message).toMatch(/HTTP 401 GatedRepo: set HF_TOKEN/);
    }
    const download = await downloadHubModel(resolved.value, anonymous, {
      cacheDir: cacheDir(),
      log,
    });
    expect(download.ok).toBe(false);
    if (!download.ok) expect(download.error.reason).toBe('hub-unauthorized');

    // A token the hub does not know is refused even where no token is needed.
    const unknownToken = await resolveHubModel(REPO, 'main', {
      endpoint: hub.endpoint,
      token: 'nope',
    });
    expect(unknownToken.ok ? undefined : unknownToken.error).toMatchObject({
      reason: 'hub-unauthorized',
      message: expect.stringMatching(/HTTP 401 for .*: HF_TOKEN was refused/),
    });
    const wrong = await hubModelDownloadBytes(resolved.value, {
      endpoint: hub.endpoint,
      token: 'nope',
    });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok)
      expect(wrong.error.message).toMatch(/HTTP 403 GatedRepo: HF_TOKEN has no access/);

    const granted = await hubModelDownloadBytes(resolved.value, {
      endpoint: hub.endpoint,
      token: TOKEN,
    });
    const total = resolved.value.files.reduce(
      (sum, file) => sum + readFileSync(join(FIXTURE, file)).length,
      0,
    );
    expect(granted).toEqual({ ok: true, value: total });
  });

  test('refuses corrupt weights (SHA-256 differs from X-Linked-Etag) and keeps nothing of them', async () => {
    const hub = await start({ faults: { 'model.safetensors': [{ type: 'corrupt' }] } });
    const access = { endpoint: hub.endpoint };
    const resolved = await resolveHubModel(REPO, 'main', access);
    if (!resolved.ok) throw new Error(resolved.error.message);
    const cache = cacheDir();
    const download = await downloadHubModel(resolved.value, access, { cacheDir: cache, log });
    expect(download.ok).toBe(false);
    if (!download.ok) {
      expect(download.error.reason).toBe('hub-corrupt-download');
      expect(download.error.message).toMatch(
        /model\.safetensors: sha256 differs from the hub's ETag/,
      );
    }
    const folder = snapshotFolder(cache, REPO, COMMIT);
    expect(existsSync(join(folder, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(folder, 'model.safetensors.part'))).toBe(false);
  });

  test("refuses a small file whose bytes do not hash to the hub's git blob id", async () => {
    const hub = await start({ faults: { 'tokenizer.json': [{ type: 'short' }] } });
    const access = { endpoint: hub.endpoint };
    const resolved = await resolveHubModel(REPO, 'main', access);
    if (!resolved.ok) throw new Error(resolved.error.message);
    const download = await downloadHubModel(resolved.value, access, { cacheDir: cacheDir(), log });
    expect(download.ok).toBe(false);
    if (!download.ok) expect(download.error.message).toMatch(/tokenizer\.json: git-sha1 differs/);
  });

  test('refuses weights that keep arriving shorter than X-Linked-Size', async () => {
    const short: Fault[] = [{ type: 'short' }, { type: 'short' }, { type: 'short' }];
    const hub = await start({ faults: { 'model.safetensors': short } });
    const access = { endpoint: hub.endpoint };
    const resolved = await resolveHubModel(REPO, 'main', access);
    if (!resolved.ok) throw new Error(resolved.error.message);
    const download = await downloadHubModel(resolved.value, access, {
      cacheDir: cacheDir(),
      log,
      retry: FAST_RETRY,
    });
    expect(download.ok).toBe(false);
    if (!download.ok) expect(download.error.message).toMatch(/the hub says 3294064/);
  });

  test('an unknown revision or repo is a named failure', async () => {
    const hub = await start();
    const revision = await resolveHubModel(REPO, 'no-such-branch', { endpoint: hub.endpoint });
    expect(revision.ok ? undefined : revision.error).toMatchObject({
      reason: 'hub-not-found',
      message: expect.stringMatching(/RevisionNotFound/),
    });
    const repo = await resolveHubModel('nobody/nothing', 'main', { endpoint: hub.endpoint });
    expect(repo.ok ? undefined : repo.error.reason).toBe('hub-not-found');
  });
});

describe('the encoder set-up step without the hub', () => {
  test('offline, a hub encoder not set up before is refused with the setting to change', async () => {
    const result = await ensureEncoderModel('roberta-large', {
      modelsDir: cacheDir(),
      env: { HF_HUB_OFFLINE: '1' },
      setting: 'eval.bertscore.model',
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe('encoder-offline');
      expect(result.error.message).toMatch(
        /encoder 'roberta-large' is not set up locally and hub downloads are off \(HF_HUB_OFFLINE=1\); set eval\.bertscore\.model to a local model folder/,
      );
    }
  });

  test('an unreachable hub is refused the same way, naming the endpoint', async () => {
    // A port nothing listens on: the server is started and closed at once.
    const hub = await start();
    const endpoint = hub.endpoint;
    await hub.close();
    server = undefined;
    const result = await ensureEncoderModel('roberta-large', {
      modelsDir: cacheDir(),
      env: { HF_ENDPOINT: endpoint },
      setting: 'eval.bertscore.model',
    });
    expect(result.ok ? undefined : result.error.reason).toBe('hub-unreachable');
    if (!result.ok) {
      expect(result.error.message).toContain(`${endpoint}/api/models/roberta-large/revision/main`);
      expect(result.error.message).toMatch(/set eval\.bertscore\.model to a local model folder/);
    }
  });

  test('reads the endpoint, the token and the offline switches as huggingface_hub does', () => {
    expect(hubAccess({})).toEqual({ endpoint: 'https://huggingface.co' });
    expect(hubAccess({ HF_ENDPOINT: 'http://mirror.local/', HF_TOKEN: 't' })).toEqual({
      endpoint: 'http://mirror.local',
      token: 't',
    });
    expect(hubAccess({ HF_HUB_OFFLINE: 'true' }).offline).toBe('HF_HUB_OFFLINE=true');
    expect(hubAccess({ HF_HUB_OFFLINE: '0' }).offline).toBeUndefined();
    expect(hubAccess({ DERMATUNE_OFFLINE: '1' }).offline).toBe('DERMATUNE_OFFLINE=1');
  });
});
