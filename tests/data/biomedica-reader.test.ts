import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import type { BiomedicaSample } from '../../stages/biomedica/biomedica-sample.ts';
import {
  type BiomedicaSource,
  biomedicaSourceFingerprint,
  type HubSource,
  readBiomedicaSource,
  type SourceFailure,
  type SourceOptions,
} from '../../stages/biomedica/biomedica-source.ts';
import { readShardSamples } from '../../stages/biomedica/shard-reader.ts';
import { type Fault, type HubTestServer, startHubTestServer } from './hub-test-server.ts';

const FIXTURE = join(projectRoot(), 'tests', 'fixtures', 'biomedica');
const SHARDS = ['commercial/000000.tar', 'commercial/000001.tar', 'noncommercial/000000.tar'];
const REPO = 'BIOMEDICA/biomedica_webdataset_24M';
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const TOKEN = 'hf_test_token';
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, stallTimeoutMs: 2_000 };

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dermatune-reader-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function options(env: Record<string, string | undefined> = {}): SourceOptions {
  return { cacheDir: join(workDir, 'cache'), baseDir: projectRoot(), env, retry: FAST_RETRY };
}

async function readAll(source: BiomedicaSource, opts: SourceOptions) {
  const samples: BiomedicaSample[] = [];
  const failures: SourceFailure[] = [];
  for await (const item of readBiomedicaSource(source, opts)) {
    if (item.ok) samples.push(item.value);
    else failures.push(item.error);
  }
  return { samples, failures };
}

describe('reading local BIOMEDICA shards', () => {
  it('yields every sample of the fixture, grouped by key, with caption and metadata', async () => {
    const { samples, failures } = await readAll(
      { type: 'local', paths: ['tests/fixtures/biomedica'] },
      options(),
    );
    expect(failures).toEqual([]);
    expect(samples).toHaveLength(67);
    expect(new Set(samples.map((s) => s.key)).size).toBe(67);
    expect(new Set(samples.map((s) => s.shard))).toEqual(
      new Set(SHARDS.map((s) => join('tests/fixtures/biomedica', s))),
    );
    const articles = new Set(
      samples.map((s) => (s.metadata as { article_accession_id: string }).article_accession_id),
    );
    expect(articles.size).toBe(27);
    const first = samples.find((s) => s.key === 'PMC0000101_F1');
    expect(first?.caption).toMatch(/^Flaccid bullae/);
    expect(first?.image?.extension).toBe('jpg');
    expect(first?.image?.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // The one sample written without its image on purpose.
    expect(samples.filter((s) => !s.image).map((s) => s.key)).toEqual(['PMC0000120_F2']);
  });

  it('yields samples while the shard is still arriving (streams, does not buffer the shard)', async () => {
    const bytes = await readFile(join(FIXTURE, SHARDS[0] as string));
    const input = new PassThrough();
    const iterator = readShardSamples(input, 'partial')[Symbol.asyncIterator]();
    input.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    const firstTwo = [await iterator.next(), await iterator.next()];
    expect(firstTwo.every((r) => !r.done && r.value.ok)).toBe(true);
    input.end(bytes.subarray(Math.floor(bytes.length / 2)));
    let rest = 0;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest++;
    expect(rest + 2).toBe(29);
  });

  it('reports a truncated shard as corrupt after the samples before the cut', async () => {
    const bytes = await readFile(join(FIXTURE, SHARDS[0] as string));
    const cut = join(workDir, 'cut.tar');
    await writeFile(cut, bytes.subarray(0, 20_000));
    const { samples, failures } = await readAll({ type: 'local', paths: [cut] }, options());
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.length).toBeLessThan(29);
    expect(failures.map((f) => f.reason)).toEqual(['corrupt-shard']);
  });

  it('refuses a path that does not exist', async () => {
    const { failures } = await readAll({ type: 'local', paths: ['no/such/dir'] }, options());
    expect(failures.map((f) => f.reason)).toEqual(['no-shards']);
  });
});

describe('reading BIOMEDICA shards from the hub protocol', () => {
  let server: HubTestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(faults: Record<string, Fault[]> = {}) {
    server = await startHubTestServer({
      repo: REPO,
      commit: COMMIT,
      branches: ['main'],
      root: FIXTURE,
      token: TOKEN,
      faults,
    });
    return server;
  }

  const hubSource = (endpoint: string): HubSource => ({
    type: 'hub',
    repo: REPO,
    revision: 'main',
    shards: SHARDS,
    endpoint,
  });

  it('downloads through a dropped connection by resuming with Range, and through a 503', async () => {
    const hub = await start({
      'commercial/000000.tar': [{ type: 'drop-after', bytes: 50_000 }],
      'commercial/000001.tar': [{ type: 'status', status: 503, retryAfter: '0' }],
    });
    const local = await readAll({ type: 'local', paths: ['tests/fixtures/biomedica'] }, options());
    const remote = await readAll(hubSource(hub.endpoint), options({ HF_TOKEN: TOKEN }));
    expect(remote.failures).toEqual([]);
    expect(remote.samples.map((s) => s.key)).toEqual(local.samples.map((s) => s.key));
    expect(remote.samples.map((s) => s.image?.bytes.length)).toEqual(
      local.samples.map((s) => s.image?.bytes.length),
    );
    // The resumed request asked for the rest of the file, followed the redirect, and got 206.
    const resumed = hub.requests.filter((r) => r.range === 'bytes=50000-');
    expect(resumed.map((r) => r.status)).toEqual([302, 206]);
    expect(hub.requests.some((r) => r.status === 503)).toBe(true);
    // Files were fetched from the pinned commit, not the branch name.
    const resolves = hub.requests.filter((r) => r.url.includes('/resolve/'));
    expect(resolves.every((r) => r.url.includes(`/resolve/${COMMIT}/`))).toBe(true);
    expect(resolves.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // The token never travels to the CDN origin the hub redirects to.
    const content = hub.requests.filter((r) => r.url.startsWith('/cdn/'));
    expect(content.length).toBeGreaterThanOrEqual(4);
    expect(content.every((r) => r.authorization === undefined)).toBe(true);
    // Cached bytes equal the fixture's.
    const cached = await readFile(
      join(
        workDir,
        'cache',
        `datasets--${REPO.replace('/', '--')}`,
        COMMIT,
        'commercial',
        '000000.tar',
      ),
    );
    expect(cached.equals(await readFile(join(FIXTURE, 'commercial/000000.tar')))).toBe(true);

    // A second read is served from the cache: only the revision lookup reaches the hub.
    const before = hub.requests.length;
    const again = await readAll(hubSource(hub.endpoint), options({ HF_TOKEN: TOKEN }));
    expect(again.samples).toHaveLength(67);
    expect(hub.requests.slice(before).map((r) => new URL(r.url, 'http://x').pathname)).toEqual([
      `/api/datasets/${REPO}/revision/main`,
    ]);
  });

  it('restarts from zero when the server ignores Range', async () => {
    const hub = await start({
      'noncommercial/000000.tar': [{ type: 'drop-after', bytes: 10_000 }, { type: 'ignore-range' }],
    });
    const remote = await readAll(
      { ...hubSource(hub.endpoint), revision: COMMIT, shards: ['noncommercial/000000.tar'] },
      options({ HF_TOKEN: TOKEN }),
    );
    expect(remote.failures).toEqual([]);
    expect(remote.samples).toHaveLength(14);
  });

  it('fails with unauthorized, without retrying, when no token is set', async () => {
    const hub = await start();
    const remote = await readAll(
      { ...hubSource(hub.endpoint), revision: COMMIT },
      options({ HF_TOKEN: undefined }),
    );
    expect(remote.samples).toEqual([]);
    expect(remote.failures.map((f) => f.reason)).toEqual(['unauthorized']);
    expect(remote.failures[0]?.message).toMatch(/HF_TOKEN/);
    // No retry: each shard asked for at most once (several start together, data.source.downloads).
    const asked = hub.requests.filter((r) => r.url.includes('/resolve/')).map((r) => r.url);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked).size).toBe(asked.length);
  });

  it('rejects a download whose bytes do not match the hub ETag, keeping nothing in the cache', async () => {
    const hub = await start({ 'commercial/000001.tar': [{ type: 'corrupt' }] });
    const remote = await readAll(
      { ...hubSource(hub.endpoint), revision: COMMIT, shards: ['commercial/000001.tar'] },
      options({ HF_TOKEN: TOKEN }),
    );
    expect(remote.failures.map((f) => f.reason)).toEqual(['checksum-mismatch']);
    const retry = await readAll(
      { ...hubSource(hub.endpoint), revision: COMMIT, shards: ['commercial/000001.tar'] },
      options({ HF_TOKEN: TOKEN }),
    );
    expect(retry.failures).toEqual([]);
    expect(retry.samples.length).toBeGreaterThan(0);
  });

  it('gives up after the configured attempts on persistent 500s', async () => {
    const hub = await start({
      'commercial/000000.tar': Array.from(
        { length: 3 },
        () => ({ type: 'status', status: 500 }) as Fault,
      ),
    });
    const opts = { ...options({ HF_TOKEN: TOKEN }), retry: { ...FAST_RETRY, maxAttempts: 3 } };
    const remote = await readAll({ ...hubSource(hub.endpoint), revision: COMMIT }, opts);
    expect(remote.failures.map((f) => f.reason)).toEqual(['gave-up']);
    expect(hub.requests.filter((r) => r.status === 500)).toHaveLength(3);
  });

  it('pins a branch to its commit in the fingerprint; local shards are pinned by content', async () => {
    const hub = await start();
    const pinned = await biomedicaSourceFingerprint(
      hubSource(hub.endpoint),
      options({ HF_TOKEN: TOKEN }),
    );
    expect(pinned).toEqual({
      ok: true,
      value: {
        'source.repo': REPO,
        'source.revision': COMMIT,
        'source.shards': SHARDS.join(','),
      },
    });
    const unknown = await biomedicaSourceFingerprint(
      { ...hubSource(hub.endpoint), revision: 'no-such-branch' },
      options({ HF_TOKEN: TOKEN }),
    );
    expect(unknown.ok ? undefined : unknown.error.reason).toBe('revision-unresolved');

    const local = await biomedicaSourceFingerprint(
      { type: 'local', paths: ['tests/fixtures/biomedica'] },
      options(),
    );
    const copy = join(workDir, 'copy.tar');
    await writeFile(copy, await readFile(join(FIXTURE, SHARDS[0] as string)));
    const one = await biomedicaSourceFingerprint({ type: 'local', paths: [copy] }, options());
    await writeFile(copy, Buffer.concat([await readFile(copy), Buffer.alloc(512)]));
    const changed = await biomedicaSourceFingerprint({ type: 'local', paths: [copy] }, options());
    expect(local.ok && one.ok && changed.ok).toBe(true);
    expect(one).not.toEqual(changed);
  });
});
