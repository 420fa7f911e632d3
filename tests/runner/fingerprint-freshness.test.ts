import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../runner/pipeline.ts';
import type { FingerprintContext } from '../../runner/stage-kind.ts';
import { makeWorkspace, SWEEP_SPEC } from './cli-harness.ts';
import { sourceKind, testPipeline } from './test-pipeline.ts';

/**
 * Which commands may key a floating reference by a recent answer (the views) and which must
 * resolve it now (whatever stores by key): the source kind's fingerprints record what they are
 * asked, and pin the source to a "branch" the test moves.
 */
function recordingPipeline(asked: FingerprintContext[], branch: { commit: string }): Pipeline {
  const source = {
    ...sourceKind,
    fingerprints: (_params: unknown, ctx: FingerprintContext) => {
      asked.push(ctx);
      return { 'source.revision': branch.commit };
    },
  };
  return {
    ...testPipeline,
    kinds: testPipeline.kinds.map((k) => (k.name === 'source' ? source : k)),
  };
}

describe('fingerprints by command', () => {
  it('validate asks none, the views may take a recent answer, run always resolves', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    const asked: FingerprintContext[] = [];
    const branch = { commit: 'a'.repeat(40) };
    const pipeline = recordingPipeline(asked, branch);

    const validated = await ws.cli(['validate', spec], pipeline);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain(
      'valid. 2 variant(s), 5 stage(s), 1 shared between variants.',
    );
    expect(asked).toEqual([]);

    for (const view of [
      ['plan', spec],
      ['status', spec],
      ['why', spec, 'source'],
    ]) {
      asked.length = 0;
      expect((await ws.cli(view, pipeline)).code).toBe(0);
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((ctx) => ctx.fresh === false)).toBe(true);
    }

    asked.length = 0;
    expect((await ws.cli(['run', spec], pipeline)).code).toBe(0);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((ctx) => ctx.fresh === true)).toBe(true);

    // The key is what the reference resolves to: a moved branch makes the stored source stale.
    branch.commit = 'b'.repeat(40);
    const moved = await ws.cli(['plan', spec, '--json'], pipeline);
    const nodes = (JSON.parse(moved.stdout) as { nodes: { kind: string; state: string }[] }).nodes;
    expect(nodes.find((n) => n.kind === 'source')?.state).toBe('stale');
  });
});
