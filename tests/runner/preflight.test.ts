import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCheck, runPreflight } from '../../runner/preflight.ts';
import type { PreflightCheck } from '../../runner/preflight-check.ts';
import type { StageNode } from '../../runner/stage-graph.ts';
import type { StageKey } from '../../runner/stage-key.ts';
import { defineStageKind, type StageKind } from '../../runner/stage-kind.ts';
import { freeLoopbackPort } from '../../runner/tracking/mlflow-server.ts';
import { runCapturedCli } from '../cli-capture.ts';
import { makeWorkspace, SWEEP_SPEC } from './cli-harness.ts';
import { testPipeline } from './test-pipeline.ts';

/** A kind whose preflight proves one shared part through `once`, counting real proofs. */
function kindProving(part: string, proofs: { count: number }): StageKind<{ n: number }> {
  return defineStageKind<{ n: number }>({
    name: `uses-${part}`,
    version: 1,
    description: 'test kind',
    paramsSchema: {},
    inputs: ['upstream'],
    deterministic: true,
    resources: {},
    preflight: async (params, ctx) => [
      await ctx.once(`prove ${part}`, async (): Promise<PreflightCheck> => {
        proofs.count++;
        return {
          part,
          subject: `the ${part}`,
          outcome: params.n > 0 ? 'passed' : 'failed',
          detail: 'x',
          setting: 'n',
        };
      }),
    ],
    estimate: (params, ctx) => ({
      amounts: { calls: params.n },
      usd: params.n / 100,
      ...(ctx.storedInput('upstream') ? { note: `reads ${ctx.storedInput('upstream')}` } : {}),
    }),
  });
}

function node(id: string, kind: StageKind<{ n: number }>, n: number, upstream: string): StageNode {
  return {
    id,
    stageId: id,
    key: `key-${id}` as StageKey,
    kind,
    record: {} as never,
    params: { n },
    resources: {},
    inputs: { upstream: upstream as StageKey },
    variants: ['v'],
  };
}

describe('runPreflight', () => {
  it('proves a shared part once, reports it once with every stage that uses it, and sums the estimates', async () => {
    const proofs = { count: 0 };
    const kind = kindProving('llm', proofs);
    const report = await runPreflight(
      [
        node('a', kind, 2, 'stored-key'),
        node('b', kind, 3, 'missing-key'),
        node('c', kind, 5, 'missing-key'),
      ],
      {
        env: {},
        signal: new AbortController().signal,
        storedOutputDir: (key) => (key === 'stored-key' ? '/store/stored-key/output' : undefined),
        extra: [
          {
            name: 'tracking',
            run: async () => [
              { part: 'mlflow', subject: 'server', outcome: 'skipped', detail: 'embedded' },
            ],
          },
        ],
      },
    );
    expect(proofs.count).toBe(1);
    expect(report.checks.map((c) => [c.part, c.stages])).toEqual([
      ['llm', ['a', 'b', 'c']],
      ['mlflow', ['tracking']],
    ]);
    expect(report.failed).toBe(0);
    expect(report.totals).toEqual({ amounts: { calls: 10 }, usd: 0.1 });
    expect(report.estimates.map((e) => e.estimate.note)).toEqual([
      'reads /store/stored-key/output',
      undefined,
      undefined,
    ]);
    expect(formatCheck(report.checks[0] as never)).toBe('ok   llm: the llm: x (a, b, c)');
  });

  it('counts failures and names the setting to change', async () => {
    const report = await runPreflight([node('a', kindProving('hub', { count: 0 }), 0, 'k')], {
      env: {},
      signal: new AbortController().signal,
      storedOutputDir: () => undefined,
    });
    expect(report.failed).toBe(1);
    expect(formatCheck(report.checks[0] as never)).toBe('FAIL hub: the hub: x -> change n (a)');
  });
});

describe('run and the tracking server', () => {
  it('warns about a tracking server that is down and runs anyway: the journal keeps the calls', async () => {
    const ws = await makeWorkspace();
    try {
      const spec = await ws.write('spec.yaml', SWEEP_SPEC);
      const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
      const result = await runCapturedCli(['run', spec], {
        pipeline: testPipeline,
        cwd: ws.dir,
        env: { DERMATUNE_STORE: join(ws.dir, 'store'), MLFLOW_TRACKING_URI: closed },
        // A tracking session that records nothing: this test is about the refusal, not the logging.
        tracking: async () => ({ observer: {}, where: closed, close: async () => {} }),
      });
      expect(result.stderr).toContain(
        `warning: MLFLOW_TRACKING_URI: mlflow tracking server ${closed}: could not reach it`,
      );
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('scaling: finished.');
    } finally {
      await rm(ws.dir, { recursive: true, force: true });
    }
  });
});
