import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { projectRoot } from '../../runner/project-root.ts';
import { DEFAULT_LABEL_FILTER } from '../../stages/biomedica/label-filter.ts';
import { curateRecords } from '../../stages/curate/curate.ts';
import { dataSourceFor } from '../../stages/sources/data-source.ts';
import type { HubParquetSource } from '../../stages/sources/table-source-spec.ts';
import { type Fault, type HubTestServer, startHubTestServer } from './hub-test-server.ts';

// The hub's Parquet conversion of a gated dataset, served by the hub-protocol test server from
// the vqa-set fixture: the same client code as BIOMEDICA's shards (revision API, resolve with
// the token, the CDN without it, Range resume, size and SHA-256 checks).
const REPO = 'clinic/vqa-skin';
const COMMIT = 'feedface0123456789abcdef0123456789abcdef';
const TOKEN = 'hf_parquet_token';
const SOURCE: HubParquetSource = {
  type: 'parquet',
  repo: REPO,
  revision: 'refs/convert/parquet',
  files: ['vqa.parquet'],
};
const COLUMNS = { group: 'patient_id', label: 'diagnosis' };

let work: string;
let server: HubTestServer | undefined;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'dermatune-hub-parquet-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(work, { recursive: true, force: true });
});

async function serve(faults?: Record<string, Fault[]>) {
  server = await startHubTestServer({
    repo: REPO,
    commit: COMMIT,
    branches: ['main', 'refs/convert/parquet'],
    root: join(projectRoot(), 'tests', 'fixtures', 'vqa-set'),
    token: TOKEN,
    ...(faults ? { faults } : {}),
  });
  return server;
}

async function curate(env: Record<string, string>) {
  const module = await dataSourceFor(SOURCE);
  return curateRecords(
    module.read(
      { source: SOURCE, filter: DEFAULT_LABEL_FILTER, columns: COLUMNS },
      { cacheDir: join(work, 'cache'), baseDir: projectRoot(), env },
    ),
    join(work, 'out'),
    { missingGroup: module.missingGroup },
  );
}

describe('Parquet on the hub', () => {
  it('keys the ref by the commit it resolves to, without downloading a byte', async () => {
    const hub = await serve();
    const module = await dataSourceFor(SOURCE);
    const pinned = await module.fingerprint(
      { source: SOURCE, filter: DEFAULT_LABEL_FILTER },
      {
        cacheDir: join(work, 'cache'),
        baseDir: projectRoot(),
        env: { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.endpoint },
      },
    );
    expect(pinned).toEqual({
      ok: true,
      value: { 'source.repo': REPO, 'source.revision': COMMIT, 'source.files': 'vqa.parquet' },
    });
    expect(hub.requests.some((r) => r.url.includes('/resolve/'))).toBe(false);
  });

  it('downloads the gated file with the token, resumes a cut transfer with a Range request, and reads every row', async () => {
    const hub = await serve({ 'vqa.parquet': [{ type: 'drop-after', bytes: 10_000 }] });
    const result = await curate({ HF_TOKEN: TOKEN, HF_ENDPOINT: hub.endpoint });
    expect(result.ok && [result.value.read, result.value.kept]).toEqual([48, 48]);
    // The CDN's URL names the object by hash; the second transfer asks for what was missing.
    expect(hub.requests.map((r) => r.range)).toContain('bytes=10000-');
    // The file is fetched at the commit the ref resolved to, never at the moving ref.
    expect(
      hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.includes(COMMIT)),
    ).toBe(true);
  });

  it('fails preflight without the token, naming the variable to set', async () => {
    const hub = await serve();
    const module = await dataSourceFor(SOURCE);
    const checks = await module.preflight(
      { source: SOURCE, filter: DEFAULT_LABEL_FILTER, columns: COLUMNS },
      preflightContext({ env: { HF_ENDPOINT: hub.endpoint } }),
    );
    expect(checks.filter((c) => c.outcome === 'failed').map((c) => c.setting)).toEqual([
      'HF_TOKEN',
    ]);
  });
});
