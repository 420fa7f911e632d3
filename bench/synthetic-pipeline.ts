import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pipeline } from '../runner/pipeline.ts';
import { ok } from '../runner/result.ts';
import { defineStageKind, type StageKind } from '../runner/stage-kind.ts';

/**
 * A synthetic study for benchmarks: one shared source stage, then a chain of `depth` stages
 * per variant that all read the variant's axis values, so a sweep of V variants has
 * 1 + V x depth distinct nodes. Stages write one small file, so what is measured is the
 * runner's own work (planning, keying, store look-ups), not the stages'.
 */
export function syntheticPipeline(depth: number): Pipeline {
  const source = defineStageKind<{ seed: number }>({
    name: 'source',
    version: 1,
    description: 'shared root',
    inputs: [],
    deterministic: true,
    resources: {},
    paramsSchema: { type: 'object', properties: { seed: { type: 'integer', default: 1 } } },
    run: async (ctx) => {
      await writeFile(join(ctx.outDir, 'out.txt'), String(ctx.params.seed));
      return ok({});
    },
  });
  const axes = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      a: { type: 'integer', default: 0 },
      b: { type: 'integer', default: 0 },
      c: { type: 'integer', default: 0 },
    },
  };
  const steps: StageKind<{ axes: unknown }>[] = Array.from({ length: depth }, (_, i) =>
    defineStageKind<{ axes: unknown }>({
      name: `step-${i}`,
      version: 1,
      description: `step ${i}`,
      inputs: ['previous'],
      deterministic: true,
      resources: {},
      paramsSchema: { type: 'object', properties: { axes } },
      run: async (ctx) => {
        await writeFile(join(ctx.outDir, 'out.txt'), `${i} ${JSON.stringify(ctx.params.axes)}`);
        return ok({});
      },
    }),
  );
  return {
    kinds: [source, ...steps],
    stagesFor: () => [
      { id: 'source', kind: 'source', inputs: {} },
      ...steps.map((step, i) => ({
        id: step.name,
        kind: step.name,
        inputs: { previous: i === 0 ? 'source' : `step-${i - 1}` },
      })),
    ],
  };
}

/** A spec whose sweep has `a x b x c` variants. */
export function syntheticSpec(a: number, b: number, c: number): string {
  const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  return `name: synthetic\nsweep:\n  name: "{axes.a}-{axes.b}-{axes.c}"\n  axes.a: ${list(a)}\n  axes.b: ${list(b)}\n  axes.c: ${list(c)}\n`;
}
