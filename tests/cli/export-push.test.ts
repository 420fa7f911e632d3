import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubUploads, hubUploads } from '../data/hub-commit-routes.ts';
import { type HubTestServer, startHubTestServer } from '../data/hub-test-server.ts';
import { makeTrainedStore, type TrainedStore } from './trained-store.ts';

/**
 * `dermatune export --push` against the hub-protocol test server: one commit through the
 * commit API (preupload, LFS batch, signed PUT, NDJSON commit), resumable (a push cut before
 * its commit sends no LFS object twice), and HF_TOKEN in no output, file or non-hub request.
 */
const REPO = 'dermatune-test/skin-lora';
const TOKEN = 'hf_test_write_token_0123456789';
let trained: TrainedStore;
const servers: HubTestServer[] = [];

async function hub(uploads: HubUploads): Promise<HubTestServer> {
  const server = await startHubTestServer({
    repo: REPO,
    repoType: 'model',
    commit: '0'.repeat(40),
    branches: ['main'],
    root: await mkdtemp(join(tmpdir(), 'dermatune-hub-')),
    token: TOKEN,
    uploads,
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  trained = await makeTrainedStore();
}, 1_200_000);

afterAll(async () => {
  for (const server of servers) await server.close();
});

const push = (server: HubTestServer, env: Record<string, string> = { HF_TOKEN: TOKEN }) =>
  trained.cli(['export', 'trained.yaml', '--variant', 'lora', '--push', REPO], {
    HF_ENDPOINT: server.endpoint,
    ...env,
  });

describe('dermatune export --push', () => {
  it('commits the export to the repository, the token only in the hub’s own Authorization header', async () => {
    const uploads = hubUploads();
    const server = await hub(uploads);
    const before = await trained.snapshot();
    const result = await push(server);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^Pushed \d+ files to dermatune-test\/skin-lora \(1 LFS objects sent, 0 already there\)/,
    );
    expect(uploads.commits).toHaveLength(1);
    const paths = [...uploads.files.keys()];
    for (const file of [
      'adapter_config.json',
      'adapter_model.safetensors',
      'README.md',
      'generation_config.json',
    ]) {
      expect(paths).toContain(file);
    }
    const config = JSON.parse(uploads.files.get('adapter_config.json')?.toString() ?? '{}');
    expect(config.base_model_name_or_path).toBe('tiny-smolvlm-standin');
    // The committed weights are the stored adapter's bytes.
    const stages = join(trained.store, 'stages');
    let stored: Buffer | undefined;
    for (const key of await readdir(stages)) {
      stored ??= await readFile(
        join(stages, key, 'output', 'adapter', 'adapter_model.safetensors'),
      ).catch(() => undefined);
    }
    expect(uploads.files.get('adapter_model.safetensors')?.equals(stored ?? Buffer.alloc(0))).toBe(
      true,
    );

    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    const upload = server.requests.filter((r) => r.url.startsWith('/lfs-upload/'));
    expect(upload).toHaveLength(1);
    expect(upload[0]?.authorization).toBeUndefined();
    expect(await trained.snapshot()).toEqual(before);
    const written = await readdir(trained.dir, { recursive: true });
    for (const file of written) {
      const text = await readFile(join(trained.dir, file), 'utf8').catch(() => '');
      expect(text).not.toContain(TOKEN);
    }
  }, 600_000);

  it('resumes: a push cut before its commit is finished by a rerun that sends no object again', async () => {
    const uploads = hubUploads();
    uploads.failCommits = 1;
    const server = await hub(uploads);
    const cut = await push(server);
    expect(cut.code).toBe(1);
    expect(cut.stderr.trim().split('\n')).toHaveLength(1);
    expect(cut.stderr).toContain('/commit/main: the hub answered (500');
    expect(uploads.lfsObjects.size).toBe(1);
    expect(uploads.commits).toHaveLength(0);
    const rerun = await push(server);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('(0 LFS objects sent, 1 already there)');
    expect(server.requests.filter((r) => r.url.startsWith('/lfs-upload/'))).toHaveLength(1);
    expect(uploads.commits).toHaveLength(1);
  }, 600_000);

  it('refuses without a token, and with one the hub refuses, in one line that never shows it', async () => {
    const server = await hub(hubUploads());
    const none = await push(server, {});
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      `--push ${REPO} needs HF_TOKEN (a token with write access); nothing was pushed\n`,
    );
    const wrong = 'hf_wrong_token_abcdef';
    const refused = await push(server, { HF_TOKEN: wrong });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('the hub refused the token (401');
    expect(refused.stderr).not.toContain(wrong);
  }, 600_000);
});
