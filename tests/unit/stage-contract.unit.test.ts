import { describe, expect, it } from 'vitest';
import type { ParamsSchemaMismatch } from '../../runner/params-schema-check.ts';
import type { PipelineStage } from '../../runner/pipeline.ts';
import { fail, ok } from '../../runner/result.ts';
import { buildStageGraph } from '../../runner/stage-graph.ts';
import { type ContextOf, defineStageContract, defineStageKind } from '../../runner/stage-kind.ts';
import { kindTracking } from '../../runner/tracking/kind-tracking.ts';

// A kind on a contract: `fit` reads `data` (required) and `warm` (optional), writes model.bin.
interface FitParams {
  fit: { rate: number; note?: string };
}
const fitContract = defineStageContract<FitParams>()({
  inputs: ['data'],
  optionalInputs: ['warm'],
  outputs: { model: 'model.bin' },
});
const fitSchema = {
  type: 'object',
  properties: {
    fit: {
      type: 'object',
      properties: { rate: { type: 'number', default: 0.1 }, note: { type: 'string' } },
    },
  },
} as const;

/** What a run function sees: only declared inputs, the optional one possibly absent. */
function inputDirs(ctx: ContextOf<typeof fitContract>): string[] {
  // @ts-expect-error: `model` is no input of fit; naming it is a type error, not a run failure.
  void ctx.inputs.model;
  return [ctx.inputs.data.dir, ctx.inputs.warm?.dir ?? 'cold'];
}

const fitKind = defineStageKind({
  name: 'fit',
  version: 1,
  description: 'fits',
  contract: fitContract,
  deterministic: true,
  resources: { cpu: 1 },
  tracking: {
    metricPrefix: 'fit',
    datasets: [{ file: fitContract.outputs.model, context: 'train', unlessVariantHas: 'tune' }],
  },
  paramsSchema: fitSchema,
  run: async (ctx) => ok({ stats: { dirs: inputDirs(ctx) } }),
});
const loadKind = defineStageKind<Record<string, never>>({
  name: 'load',
  version: 1,
  description: 'loads',
  inputs: [],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: { type: 'object' },
  run: async () => fail({ reason: 'invalid-input', message: 'graph tests never run stages' }),
});

describe('a stage kind declared on its contract', () => {
  it('runs with its inputs by name, an optional one possibly absent', async () => {
    const input = { dir: '/store/load', key: 'k-load', kind: 'load' };
    const ran = await fitKind.run?.({
      params: { fit: { rate: 0.1 } },
      inputs: { data: input },
      outDir: '/staging/out',
      key: 'k-fit',
      signal: new AbortController().signal,
      memo: { get: async () => undefined, put: async () => {} },
      logFile: '/staging/log',
      cacheDir: '/cache',
      report: () => {},
    });
    expect(ran).toEqual(ok({ stats: { dirs: ['/store/load', 'cold'] } }));
  });

  it('takes its inputs and output files from the contract', () => {
    expect(fitKind.inputs).toEqual(['data']);
    expect(fitKind.optionalInputs).toEqual(['warm']);
    expect(fitKind.outputs).toEqual({ model: 'model.bin' });
    expect('contract' in fitKind).toBe(false);
  });

  it('still has the graph refuse a node whose required input is unwired', async () => {
    const unwired = await buildStageGraph(
      {
        kinds: [loadKind, fitKind],
        stagesFor: (): PipelineStage[] => [
          { id: 'load', kind: 'load', inputs: {} },
          { id: 'fit', kind: 'fit', inputs: { warm: 'load' } },
        ],
      },
      [{ name: 'v', spec: {} }],
    );
    expect(unwired).toEqual(
      fail({ reason: 'missing-input', stage: 'fit', kind: 'fit', input: 'data' }),
    );
  });

  it('gives tracking its metric prefix and dataset files', () => {
    expect(kindTracking([loadKind, fitKind])).toEqual({
      metricPrefixes: { fit: 'fit' },
      datasetFiles: {
        fit: [{ file: 'model.bin', context: 'train', unlessVariantHas: 'tune' }],
      },
    });
  });
});

// The params type checked against its schema, at compile time only: `npm run typecheck` fails
// when one of these stops holding. Each disagreement is named by its dotted path; a type that
// agrees yields none.
type FitMismatch<P> = ParamsSchemaMismatch<P, typeof fitSchema>;
const schemaChecks: {
  agree: [FitMismatch<FitParams>] extends [never] ? true : false;
  defaulted: FitMismatch<{ fit: { rate?: number; note?: string } }>;
  mayBeLeftOut: FitMismatch<{ fit: { rate: number; note: string } }>;
  extra: FitMismatch<{ fit: { rate: number; note?: string; epochs: number } }>;
  missing: FitMismatch<{ fit: { note?: string } }>;
} = {
  agree: true,
  defaulted: 'fit.rate: optional in the params type, but the schema requires it or gives a default',
  mayBeLeftOut:
    'fit.note: required in the params type, but the schema neither requires it nor gives a default',
  extra: 'fit.epochs: in the params type, not in the schema',
  missing: 'fit.rate: in the schema, not in the params type',
};
void schemaChecks;
