import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { freeLoopbackPort } from '../../runner/tracking/mlflow-server.ts';
import type { ListedHubSource } from '../../stages/biomedica/hub-preflight.ts';
import { proveHubDataset, proveHubModel } from '../../stages/biomedica/hub-preflight.ts';
import { curateKind } from '../../stages/curate/kind.ts';
import { type HubTestServer, startHubTestServer } from './hub-test-server.ts';

const REPO = 'BIOMEDICA/biomedica_webdataset_24M';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const MODEL_COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';
const FIXTURES = join(projectRoot(), 'tests/fixtures/biomedica');

let hub: HubTestServer;
beforeAll(async () => {
  hub = await startHubTestServer({
    repo: REPO,
    commit: COMMIT,
    branches: ['main'],
    root: FIXTURES,
    token: 'granted',
    ungrantedTokens: ['not-granted'],
    models: { 'HuggingFaceTB/SmolVLM-Base': MODEL_COMMIT },
  });
});
afterAll(async () => {
  await hub.close();
});

const source = (shards: string[]): ListedHubSource => ({
  type: 'hub',
  repo: REPO,
  revision: 'main',
  shards,
  endpoint: hub.endpoint,
  token_env: 'TEST_HF_TOKEN',
});

describe('hub preflight against the hub-protocol server', () => {
  it('resolves the revision and HEADs every shard with the token, summing their sizes, without downloading', async () => {
    const shards = ['commercial/000000.tar', 'commercial/000001.tar', 'noncommercial/000000.tar'];
    const before = hub.requests.length;
    const ctx = preflightContext({ env: { TEST_HF_TOKEN: 'granted' } });
    const proof = await proveHubDataset(source(shards), ctx);
    expect(proof.checks.map((c) => [c.outcome, c.subject])).toEqual([
      ['passed', `dataset ${REPO}@main`],
      ['passed', `3 shard(s) of ${REPO}`],
    ]);
    expect(proof.checks[0]?.detail).toContain(`resolves to ${COMMIT}`);
    let bytes = 0;
    for (const shard of shards) bytes += (await stat(join(FIXTURES, shard))).size;
    expect(proof.bytes).toBe(bytes);
    const made = hub.requests.slice(before);
    expect(made.filter((r) => r.method === 'HEAD').length).toBe(3);
    // Nothing went to the CDN: the hub's own 302 carries the size.
    expect(made.every((r) => !r.url.startsWith('/cdn/'))).toBe(true);

    // The estimate takes the sizes from the hub's tree listing, and says how much a run
    // downloads: no HEAD again, nothing from the CDN.
    const estimate = await curateKind.estimate?.(
      { data: { source: source(shards), filter: {} } } as never,
      ctx,
    );
    expect(estimate?.amounts).toEqual({ 'download bytes': bytes });
    const listing = hub.requests.slice(before + made.length);
    expect(listing.length).toBeGreaterThan(0);
    expect(listing.filter((r) => r.method === 'HEAD' || r.url.startsWith('/cdn/'))).toEqual([]);
  });

  it('names the missing shard, the missing token, and a token without gated access', async () => {
    const missing = await proveHubDataset(
      source(['commercial/000000.tar', 'commercial/999999.tar']),
      preflightContext({ env: { TEST_HF_TOKEN: 'granted' } }),
    );
    expect(missing.checks[1]).toMatchObject({
      outcome: 'failed',
      setting: 'data.source.shards',
    });
    expect(missing.checks[1]?.detail).toBe(
      '1 not readable: commercial/999999.tar: missing (HTTP 404 EntryNotFound)',
    );

    const noToken = await proveHubDataset(
      source(['commercial/000000.tar']),
      preflightContext({ env: {} }),
    );
    expect(noToken.checks).toEqual([
      expect.objectContaining({ outcome: 'failed', setting: 'TEST_HF_TOKEN' }),
    ]);
    expect(noToken.checks[0]?.detail).toContain('TEST_HF_TOKEN is not set');

    const ungranted = await proveHubDataset(
      source(['commercial/000000.tar']),
      preflightContext({ env: { TEST_HF_TOKEN: 'not-granted' } }),
    );
    // The metadata answers, the file does not: only a HEAD proves access to a gated dataset.
    expect(ungranted.checks.map((c) => c.outcome)).toEqual(['passed', 'failed']);
    expect(ungranted.checks[1]).toMatchObject({ setting: 'TEST_HF_TOKEN' });
    expect(ungranted.checks[1]?.detail).toContain('access not granted');
  });

  it('resolves a model repository, and fails an unknown one naming model.base', async () => {
    const env = { HF_ENDPOINT: hub.endpoint };
    const known = await proveHubModel(
      'HuggingFaceTB/SmolVLM-Base',
      'main',
      'model.base',
      preflightContext({ env }),
    );
    expect(known).toMatchObject({ outcome: 'passed', detail: `resolves to ${MODEL_COMMIT}` });
    const unknown = await proveHubModel(
      'HuggingFaceTB/SmolVLM-Nope',
      'main',
      'model.base',
      preflightContext({ env }),
    );
    expect(unknown).toMatchObject({ outcome: 'failed', setting: 'model.base' });
    expect(unknown.detail).toContain('RepoNotFound');
  });

  it('says which host it could not reach and why', async () => {
    const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const unreachable = await proveHubModel(
      'HuggingFaceTB/SmolVLM-Base',
      'main',
      'model.base',
      preflightContext({ env: { HF_ENDPOINT: closed } }),
    );
    expect(unreachable).toMatchObject({ outcome: 'failed', setting: 'HF_ENDPOINT' });
    expect(unreachable.detail).toBe(
      `could not reach ${closed}: fetch failed (connect ECONNREFUSED ${closed.slice('http://'.length)})`,
    );
  });
});
