import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { projectRoot } from '../../runner/project-root.ts';
import type { StageContext, StageInputOutput, StageReport } from '../../runner/stage-kind.ts';
import { cleanQaKind } from '../../stages/clean-qa/kind.ts';
import type { CuratedRecord } from '../../stages/curate/curated-record.ts';
import { curateKind } from '../../stages/curate/kind.ts';
import { selectKind } from '../../stages/select/kind.ts';
import { splitKind } from '../../stages/split/kind.ts';
import { subsetKind } from '../../stages/subset/kind.ts';
import { startHubTestServer } from './hub-test-server.ts';

let store: string;
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'dermatune-stage-runs-'));
});
afterAll(async () => {
  await rm(store, { recursive: true, force: true });
});

/** A context laid out like the artifact store's staging area: `<store>/staging/<id>/output`. */
async function context<P>(
  id: string,
  params: P,
  inputs: Record<string, string> = {},
): Promise<{ ctx: StageContext<P>; reports: StageReport[] }> {
  const outDir = join(store, 'staging', id, 'output');
  await mkdir(outDir, { recursive: true });
  const reports: StageReport[] = [];
  const memo = new Map<string, unknown>();
  const wired: Record<string, StageInputOutput> = {};
  for (const [name, from] of Object.entries(inputs)) {
    wired[name] = { dir: join(store, 'staging', from, 'output'), key: from, kind: from };
  }
  return {
    reports,
    ctx: {
      params,
      inputs: wired,
      outDir,
      key: id,
      signal: new AbortController().signal,
      logFile: join(store, 'staging', id, 'stage.log'),
      cacheDir: join(store, 'cache', id),
      memo: {
        get: async <T>(ns: string, key: string) => memo.get(`${ns}/${key}`) as T | undefined,
        put: async <T>(ns: string, key: string, value: T) => {
          memo.set(`${ns}/${key}`, value);
        },
      },
      report: (event) => reports.push(event),
    },
  };
}

async function readRows<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
}

describe('the data stage kinds run through the stage contract', () => {
  it('curate -> select -> clean-qa -> split -> subset on the fixture', async () => {
    const params = {
      data: {
        source: {
          type: 'local' as const,
          paths: [join(projectRoot(), 'tests/fixtures/biomedica')],
        },
        filter: { primary_label: 'Clinical Imaging', secondary_label: 'Skin Lesion' },
      },
    };
    const curate = await context('curate', params);
    const curated = await curateKind.run?.(curate.ctx);
    expect(curated?.ok && curated.value.metrics).toMatchObject({
      'curate/read': 67,
      'curate/kept': 49,
      'curate/dropped/primary-label-mismatch': 10,
    });
    expect(await curateKind.fingerprints?.(params, { fresh: true })).toHaveProperty([
      'source.shards-sha256',
    ]);

    // Stand-in for annotate: everything bacterial except one psoriasis article.
    const records = await readRows<CuratedRecord>(join(curate.ctx.outDir, 'records.jsonl'));
    const annotateDir = join(store, 'staging', 'annotate', 'output');
    await mkdir(annotateDir, { recursive: true });
    await writeFile(
      join(annotateDir, 'annotations.jsonl'),
      records
        .map((r) =>
          JSON.stringify({
            key: r.key,
            category_number: r.article_id === 'PMC0000116' ? 13 : 21,
            category_name: r.article_id === 'PMC0000116' ? 'Psoriasis' : 'Bacterial Infections',
            reasoning: 'test',
          }),
        )
        .join('\n'),
    );
    const select = await context(
      'select',
      { data: { categories: ['Bacterial Infections'] } },
      {
        records: 'curate',
        annotations: 'annotate',
      },
    );
    const selected = await selectKind.run?.(select.ctx);
    expect(selected?.ok && selected.value.metrics?.['select/selected']).toBe(47);

    // Stand-in for generate-qa: three pairs per image, one exact duplicate.
    const chosen = await readRows<CuratedRecord>(join(select.ctx.outDir, 'records.jsonl'));
    const qaDir = join(store, 'staging', 'generate-qa', 'output');
    await mkdir(qaDir, { recursive: true });
    const qa = chosen.flatMap((r) =>
      [
        'What does this suggest?',
        'Which conditions look similar?',
        'What should be done next?',
      ].map((question, i) => ({
        key: r.key,
        article_id: r.article_id,
        image: r.image,
        caption: r.caption,
        question,
        answer: `${r.caption} (${i})`,
      })),
    );
    qa.push({ ...(qa[0] as (typeof qa)[number]) });
    await writeFile(join(qaDir, 'qa.jsonl'), qa.map((q) => JSON.stringify(q)).join('\n'));
    const clean = await context(
      'clean-qa',
      { data: { near_duplicate_threshold: 0.95 } },
      {
        qa: 'generate-qa',
      },
    );
    const cleaned = await cleanQaKind.run?.(clean.ctx);
    // The injected copy, plus the second panel of two two-panel figures: panels share their
    // figure's caption, so this stand-in gives them identical pairs (3 questions x 2 figures).
    expect(cleaned?.ok && cleaned.value.metrics?.['clean-qa/dropped/exact-duplicate']).toBe(7);
    const kept = cleaned?.ok ? (cleaned.value.metrics?.['clean-qa/kept'] ?? 0) : 0;

    const split = await context(
      'split',
      { seed: 42, data: { test_fraction: 0.1 } },
      {
        qa: 'clean-qa',
      },
    );
    const splitted = await splitKind.run?.(split.ctx);
    if (!splitted?.ok) throw new Error(JSON.stringify(splitted));
    const m = splitted.value.metrics ?? {};
    expect((m['split/train_qa'] ?? 0) + (m['split/test_qa'] ?? 0)).toBe(kept);

    const subset = await context(
      'subset',
      { seed: 42, data: { train_size: 10, test_fraction: 0.1 } },
      {
        split: 'split',
      },
    );
    const subsetted = await subsetKind.run?.(subset.ctx);
    expect(subsetted?.ok && subsetted.value.metrics?.['subset/images']).toBe(10);
    const tooMany = await context(
      'subset-big',
      { seed: 42, data: { train_size: 5000, test_fraction: 0.1 } },
      {
        split: 'split',
      },
    );
    const refused = await subsetKind.run?.(tooMany.ctx);
    expect(refused?.ok ? undefined : refused?.error.message).toMatch(
      /larger than the \d+ training images/,
    );
  });

  it('curate reads the hub, caching shards under the store, and preflight asks for a token', async () => {
    const commit = 'abcdefabcdefabcdefabcdefabcdefabcdefabcd';
    const hub = await startHubTestServer({
      repo: 'BIOMEDICA/biomedica_webdataset_24M',
      commit,
      branches: ['main'],
      root: join(projectRoot(), 'tests/fixtures/biomedica'),
      token: 'tok',
    });
    const saved = process.env.DERMATUNE_TEST_HF_TOKEN;
    try {
      const params = {
        data: {
          source: {
            type: 'hub' as const,
            repo: 'BIOMEDICA/biomedica_webdataset_24M',
            revision: 'main',
            shards: ['noncommercial/000000.tar'],
            endpoint: hub.endpoint,
            token_env: 'DERMATUNE_TEST_HF_TOKEN',
          },
          filter: { primary_label: 'Clinical Imaging', secondary_label: 'Skin Lesion' },
        },
      };
      delete process.env.DERMATUNE_TEST_HF_TOKEN;
      const issues = await curateKind.preflight?.(params, preflightContext({ env: process.env }));
      expect(issues?.map((i) => `${i.outcome} ${i.setting}: ${i.detail}`).join('\n')).toMatch(
        /failed DERMATUNE_TEST_HF_TOKEN: DERMATUNE_TEST_HF_TOKEN is not set/,
      );
      const denied = await context('curate-hub-denied', params);
      const refused = await curateKind.run?.(denied.ctx);
      expect(refused?.ok ? undefined : refused?.error.reason).toBe('external-service');

      process.env.DERMATUNE_TEST_HF_TOKEN = 'tok';
      const proven = await curateKind.preflight?.(params, preflightContext({ env: process.env }));
      // The revision, every shard readable with the token, and the estimate of what they hold.
      expect(proven?.map((c) => c.outcome)).toEqual(['passed', 'passed', 'passed']);
      expect(await curateKind.fingerprints?.(params, { fresh: true })).toEqual({
        'source.repo': 'BIOMEDICA/biomedica_webdataset_24M',
        'source.revision': commit,
        'source.shards': 'noncommercial/000000.tar',
      });
      const { ctx } = await context('curate-hub', params);
      const result = await curateKind.run?.(ctx);
      expect(result?.ok && result.value.metrics?.['curate/read']).toBe(14);
      const cached = join(
        store,
        'cache',
        'curate-hub',
        'datasets--BIOMEDICA--biomedica_webdataset_24M',
        commit,
        'noncommercial',
        '000000.tar',
      );
      expect((await stat(cached)).size).toBeGreaterThan(0);
    } finally {
      if (saved === undefined) delete process.env.DERMATUNE_TEST_HF_TOKEN;
      else process.env.DERMATUNE_TEST_HF_TOKEN = saved;
      await hub.close();
    }
  });
});
