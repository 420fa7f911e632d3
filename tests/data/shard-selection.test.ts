import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/project-root.ts';
import { keyParams } from '../../runner/spec-schema.ts';
import {
  biomedicaSourceFingerprint,
  type HubSource,
  readBiomedicaSource,
  resolveHubShards,
  type SourceOptions,
} from '../../stages/biomedica/biomedica-source.ts';
import { listHubTree, nextLink } from '../../stages/biomedica/hub-tree.ts';
import {
  describeSourceForPlan,
  shardAvailabilityChecks,
} from '../../stages/biomedica/source-checks.ts';
import { estimateSource, trainSizeShortfall } from '../../stages/biomedica/source-estimate.ts';
import { curateKind } from '../../stages/curate/kind.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';
import {
  type HubTestServer,
  type HubTestServerOptions,
  startHubTestServer,
} from './hub-test-server.ts';

const FIXTURE = join(projectRoot(), 'tests', 'fixtures', 'biomedica');
const ALL_SHARDS = ['commercial/000000.tar', 'commercial/000001.tar', 'noncommercial/000000.tar'];
const REPO = 'BIOMEDICA/biomedica_dermatology_subset_webdataset';
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const TOKEN = 'hf_test_token';
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, stallTimeoutMs: 5_000 };

let workDir: string;
let server: HubTestServer | undefined;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dermatune-selection-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(workDir, { recursive: true, force: true });
});

async function hub(extra: Partial<HubTestServerOptions> = {}): Promise<HubTestServer> {
  server = await startHubTestServer({
    repo: REPO,
    commit: COMMIT,
    branches: ['main'],
    root: FIXTURE,
    token: TOKEN,
    ...extra,
  });
  return server;
}

const env = (endpoint: string) => ({ HF_TOKEN: TOKEN, HF_ENDPOINT: endpoint });

function options(endpoint: string): SourceOptions {
  return {
    cacheDir: join(workDir, 'cache'),
    baseDir: projectRoot(),
    env: env(endpoint),
    retry: FAST_RETRY,
    answers: { dir: join(workDir, 'answers') },
  };
}

function source(shards: HubSource['shards'], extra: Partial<HubSource> = {}): HubSource {
  return { type: 'hub', repo: REPO, revision: 'main', shards, ...extra };
}

const contentRequests = (s: HubTestServer) => s.requests.filter((r) => r.url.includes('/resolve/'));

describe('the hub tree API', () => {
  it('lists every file with its content size, following the Link pages', async () => {
    const s = await hub({ treePageSize: 2 });
    const listed = await listHubTree({
      endpoint: s.endpoint,
      repo: REPO,
      revision: COMMIT,
      path: '',
      token: TOKEN,
    });
    expect(listed.ok).toBe(true);
    if (!listed.ok) return;
    const tars = listed.value.filter((f) => f.path.endsWith('.tar'));
    expect(tars.map((f) => f.path)).toEqual(ALL_SHARDS);
    for (const tar of tars) {
      // lfs.size, not the 134-byte pointer size the entry's own `size` carries.
      expect(tar.size).toBe((await stat(join(FIXTURE, tar.path))).size);
    }
    const pages = s.requests.filter((r) => r.url.includes('/tree/'));
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.every((p) => p.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('reads the next page from a Link header', () => {
    expect(nextLink('<https://hf.co/api/x?cursor=abc>; rel="next"')).toBe(
      'https://hf.co/api/x?cursor=abc',
    );
    expect(nextLink(null)).toBeUndefined();
  });

  it('says unauthorized without a token and not-found for a missing folder', async () => {
    const s = await hub();
    const request = { endpoint: s.endpoint, repo: REPO, revision: COMMIT, path: '' };
    const anonymous = await listHubTree(request);
    expect(!anonymous.ok && anonymous.error.reason).toBe('unauthorized');
    const missing = await listHubTree({ ...request, path: 'other', token: TOKEN });
    expect(!missing.ok && missing.error.reason).toBe('not-found');
  });
});

describe("the views' recent answers of the hub, run's fresh ones", () => {
  const apiRequests = (s: HubTestServer) =>
    s.requests.filter((r) => r.url.includes('/revision/') || r.url.includes('/tree/')).length;

  it('plan keys by a recent answer without asking; run asks again; an old answer is asked again', async () => {
    const s = await hub();
    let now = Date.parse('2026-12-01T12:00:00Z');
    const at = (recent: boolean): SourceOptions => ({
      ...options(s.endpoint),
      recent,
      answers: { dir: join(workDir, 'answers'), now: () => now },
    });
    const selection = source({ select: 'all' });
    const asked = await biomedicaSourceFingerprint(selection, at(false));
    expect(asked.ok && asked.value['source.revision']).toBe(COMMIT);
    const afterRun = apiRequests(s);
    expect(afterRun).toBe(2); // the revision, then the tree at its commit

    now += 5 * 60_000;
    // The view: the same key as the run's, and not one request.
    expect(await biomedicaSourceFingerprint(selection, at(true))).toEqual(asked);
    expect(apiRequests(s)).toBe(afterRun);

    // run resolves for real, whatever is remembered.
    expect(await biomedicaSourceFingerprint(selection, at(false))).toEqual(asked);
    expect(apiRequests(s)).toBe(afterRun + 2);

    // Past the TTL the view asks the revision API again; the commit's tree is known for good.
    now += 11 * 60_000;
    expect(await biomedicaSourceFingerprint(selection, at(true))).toEqual(asked);
    expect(apiRequests(s)).toBe(afterRun + 3);
  });

  it('offline with nothing remembered, the view keys the source as unpinned, as run would', async () => {
    const closed = await hub();
    const endpoint = closed.endpoint;
    await closed.close();
    server = undefined;
    const unreachable = await biomedicaSourceFingerprint(source({ select: 'all' }), {
      ...options(endpoint),
      recent: true,
    });
    expect(unreachable.ok).toBe(false);
  });
});

describe('selecting shards at the pinned commit', () => {
  it('resolves {select: all} to the repository’s .tar files, under a folder when asked', async () => {
    const s = await hub();
    const all = await resolveHubShards(source({ select: 'all' }), options(s.endpoint));
    expect(all.ok && all.value.commit).toBe(COMMIT);
    expect(all.ok && all.value.shards.map((f) => f.path)).toEqual(ALL_SHARDS);
    const commercial = await resolveHubShards(
      source({ select: 'all', under: 'commercial' }),
      options(s.endpoint),
    );
    expect(commercial.ok && commercial.value.shards.map((f) => f.path)).toEqual(
      ALL_SHARDS.slice(0, 2),
    );
  });

  it('puts the resolved list in the key, the same key as the list written out', async () => {
    const s = await hub();
    const selected = await biomedicaSourceFingerprint(
      source({ select: 'all' }),
      options(s.endpoint),
    );
    const written = await biomedicaSourceFingerprint(source(ALL_SHARDS), options(s.endpoint));
    expect(selected).toEqual(written);
    expect(selected.ok && selected.value['source.shards']).toBe(ALL_SHARDS.join(','));
    expect(selected.ok && selected.value['source.revision']).toBe(COMMIT);
  });

  it('refuses a listed shard the commit lacks before downloading anything', async () => {
    const s = await hub();
    const checks = await shardAvailabilityChecks(
      { source: source(['commercial/000000.tar', 'commercial/009999.tar']) },
      { env: env(s.endpoint) },
    );
    const shards = checks.find((c) => c.subject.startsWith('shards of'));
    expect(shards?.outcome).toBe('failed');
    expect(shards?.detail).toContain('commercial/009999.tar is not in');
    expect(contentRequests(s)).toEqual([]);
  });

  it('reads a selection in order, with several downloads at once', async () => {
    // Capped throughput keeps each transfer open long enough for the others to start.
    const s = await hub({ bytesPerSecond: 2_000_000 });
    const samples: string[] = [];
    for await (const item of readBiomedicaSource(
      source({ select: 'all' }, { downloads: 3 }),
      options(s.endpoint),
    )) {
      expect(item.ok).toBe(true);
      if (item.ok) samples.push(item.value.shard);
    }
    expect(samples).toHaveLength(67);
    // In shard order, whatever order the downloads finished in.
    expect([...new Set(samples)]).toEqual(ALL_SHARDS);
    expect(s.maxConcurrentTransfers()).toBe(3);
  });

  it('downloads one at a time when told to', async () => {
    const s = await hub({ bytesPerSecond: 4_000_000 });
    let read = 0;
    for await (const item of readBiomedicaSource(
      source({ select: 'all' }, { downloads: 1 }),
      options(s.endpoint),
    )) {
      if (item.ok) read++;
    }
    expect(read).toBe(67);
    expect(s.maxConcurrentTransfers()).toBe(1);
  });
});

describe('the download setting', () => {
  it('stays out of the curate key: it changes the speed, never the output', () => {
    const params = (downloads?: number) => ({
      data: { source: source({ select: 'all' }, downloads === undefined ? {} : { downloads }) },
    });
    const schema = curateKind.paramsSchema;
    expect(keyParams(params(8), schema)).toEqual(keyParams(params(), schema));
    expect(keyParams(params(8), schema)).toEqual(params());
  });
});

describe('estimating before downloading', () => {
  it('estimates samples and candidates from the shard sizes and the repository’s share', () => {
    const shards = [
      { path: 'commercial/000000.tar', size: 11_250_000_000 },
      { path: 'commercial/000001.tar', size: 11_250_000_000 },
    ];
    const full = estimateSource('BIOMEDICA/biomedica_webdataset_24M', shards);
    expect(full.bytes).toBe(22_500_000_000);
    expect(full.samples).toBe(20_000);
    expect(full.candidates).toBe(100);
    const subset = estimateSource('BIOMEDICA/biomedica_dermatology_subset_webdataset', shards);
    expect(subset.candidates).toBe(20_000);
  });

  it('says how far short of a train size the candidates fall', () => {
    expect(trainSizeShortfall(200, 1000, 0.1)).toEqual({ needed: 1112, short: 912 });
    expect(trainSizeShortfall(2000, 1000, 0.1)).toBeUndefined();
    expect(trainSizeShortfall(0, 'all', 0.1)).toBeUndefined();
  });

  it('refuses a train size the selected shards cannot hold, saying by how much', async () => {
    const s = await hub();
    const bytes = (await Promise.all(ALL_SHARDS.map((p) => stat(join(FIXTURE, p))))).reduce(
      (sum, info) => sum + info.size,
      0,
    );
    // The fixture's samples are small: count one per ~(bytes / 67) so the estimate is 67.
    const bytesPerSample = bytes / 67;
    const check = async (trainSize: number) =>
      (
        await shardAvailabilityChecks(
          { source: source({ select: 'all' }), trainSize, testFraction: 0.1 },
          { env: env(s.endpoint), bytesPerSample },
        )
      ).find((c) => c.setting === 'data.train_size');
    const tooMany = await check(500);
    expect(tooMany?.outcome).toBe('failed');
    expect(tooMany?.detail).toContain('needs at least 556');
    expect(tooMany?.detail).toContain('hold about 67 (short by 489)');
    expect((await check(50))?.outcome).toBe('passed');
    expect(contentRequests(s)).toEqual([]);
  });
});

describe('plan notes', () => {
  it('show the resolved shards when the index answers', async () => {
    const s = await hub();
    const lines = await describeSourceForPlan(source({ select: 'all' }, { revision: COMMIT }), {
      env: env(s.endpoint),
    });
    expect(lines[0]).toBe(`data: ${REPO}@${COMMIT.slice(0, 12)}: ${ALL_SHARDS.join(', ')}`);
    expect(lines[1]).toMatch(/^data: 3 shard\(s\), .* to read, about \d+ samples/);
  });

  it('say plainly when the index is not reachable', async () => {
    const s = await hub({ treeStatus: 503 });
    const lines = await describeSourceForPlan(source({ select: 'all' }, { revision: 'main' }), {
      env: env(s.endpoint),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "the dataset's index (the hub's revision and tree API) is not reachable",
    );
    expect(lines[0]).toContain('HTTP 503');
  });
});

describe('dermatune plan experiments/paper.yaml', () => {
  it('prints the shards the selection resolves to at the commit, and what they hold', async () => {
    const s = await hub();
    // The hub client reads the process environment, as a real run does.
    const saved = { token: process.env.HF_TOKEN, endpoint: process.env.HF_ENDPOINT };
    process.env.HF_TOKEN = TOKEN;
    process.env.HF_ENDPOINT = s.endpoint;
    try {
      const plan = await runCapturedCli(['plan', 'experiments/paper.yaml', '--json'], {
        pipeline: studyPipeline,
        cwd: projectRoot(),
        env: { DERMATUNE_STORE: join(workDir, 'store') },
      });
      expect(plan.code).toBe(0);
      const notes = (JSON.parse(plan.stdout) as { notes: { stage: string; note: string }[] }).notes;
      expect(notes.map((n) => n.stage)).toEqual(['curate', 'curate']);
      expect(notes[0]?.note).toBe(`data: ${REPO}@${COMMIT.slice(0, 12)}: ${ALL_SHARDS.join(', ')}`);
      // At BIOMEDICA's ~1.1 MB a sample, the tiny fixture shards hold about no sample.
      expect(notes[1]?.note).toMatch(/^data: 3 shard\(s\), [\d.]+ kB to read, about 0 samples/);
    } finally {
      for (const [name, value] of [
        ['HF_TOKEN', saved.token],
        ['HF_ENDPOINT', saved.endpoint],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
