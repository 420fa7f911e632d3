import { describe, expect, it } from 'vitest';
import type { Pipeline, PipelineStage } from '../../runner/pipeline.ts';
import { fail } from '../../runner/result.ts';
import { buildStageGraph, topologicalStages } from '../../runner/stage-graph.ts';
import { defineStageKind } from '../../runner/stage-kind.ts';

// Two kinds with literal schemas: `load` reads data.size, `fit` reads data.size and fit.rate.
const loadKind = defineStageKind<{ data: { size: number } }>({
  name: 'load',
  version: 1,
  description: 'loads',
  inputs: [],
  deterministic: true,
  resources: { cpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: { data: { type: 'object', properties: { size: { type: 'integer' } } } },
  },
  run: async () => fail({ reason: 'invalid-input', message: 'graph tests never run stages' }),
});
const fitKind = defineStageKind<{ fit: { rate: number } }>({
  name: 'fit',
  version: 1,
  description: 'fits',
  inputs: ['data'],
  deterministic: false,
  resources: { gpu: 1 },
  paramsSchema: {
    type: 'object',
    properties: { fit: { type: 'object', properties: { rate: { type: 'number' } } } },
  },
  run: async () => fail({ reason: 'invalid-input', message: 'graph tests never run stages' }),
});

const pipeline = (stages: PipelineStage[]): Pipeline => ({
  kinds: [loadKind, fitKind],
  baseSchema: { type: 'object' },
  stagesFor: () => stages,
});
const chain: PipelineStage[] = [
  { id: 'load', kind: 'load', inputs: {} },
  { id: 'fit', kind: 'fit', inputs: { data: 'load' } },
];

describe('stage graph', () => {
  it('collapses stages with equal keys into one node shared by the variants that need it', async () => {
    const graph = await buildStageGraph(pipeline(chain), [
      { name: 'slow', spec: { data: { size: 3 }, fit: { rate: 1 } }, axes: { 'fit.rate': 1 } },
      { name: 'fast', spec: { data: { size: 3 }, fit: { rate: 2 } }, axes: { 'fit.rate': 2 } },
    ]);
    if (!graph.ok) throw new Error(JSON.stringify(graph.error));
    expect(graph.value.nodes.map((n) => [n.id, n.variants])).toEqual([
      ['load', ['slow', 'fast']],
      ['fit[slow]', ['slow']],
      ['fit[fast]', ['fast']],
    ]);
    const [load, slow] = graph.value.nodes;
    expect(slow?.inputs).toEqual({ data: load?.key });
    expect(load?.params).toEqual({ data: { size: 3 } });
    expect(slow?.params).toEqual({ fit: { rate: 1 } });
    expect(slow?.resources).toEqual({ gpu: 1 });
  });

  it('names a node by the axis values its variants share', async () => {
    const variants = [1, 2].flatMap((size) =>
      [1, 2].map((rate) => ({
        name: `s${size}-r${rate}`,
        spec: { data: { size }, fit: { rate } },
        axes: { 'data.size': size, 'fit.rate': rate },
      })),
    );
    const graph = await buildStageGraph(pipeline(chain), variants);
    if (!graph.ok) throw new Error(JSON.stringify(graph.error));
    expect(graph.value.nodes.filter((n) => n.kind.name === 'load').map((n) => n.id)).toEqual([
      'load[1]',
      'load[2]',
    ]);
    expect(graph.value.variants.map((v) => v.nodeKeys.length)).toEqual([2, 2, 2, 2]);
  });

  it('refuses a stage whose declared input the pipeline left unwired', async () => {
    const graph = await buildStageGraph(pipeline([{ id: 'fit', kind: 'fit', inputs: {} }]), [
      { name: 'v', spec: {} },
    ]);
    expect(graph).toEqual({
      ok: false,
      error: { reason: 'missing-input', stage: 'fit', kind: 'fit', input: 'data' },
    });
  });

  it('reports a cycle with its path and the variant it was found in', async () => {
    const graph = await buildStageGraph(
      pipeline([
        { id: 'a', kind: 'fit', inputs: { data: 'b' } },
        { id: 'b', kind: 'fit', inputs: { data: 'a' } },
      ]),
      [{ name: 'v', spec: {} }],
    );
    expect(graph).toEqual({
      ok: false,
      error: { reason: 'cycle', path: ['a', 'b', 'a'], variant: 'v' },
    });
  });

  it('orders inputs before their readers and names a dangling input', () => {
    const ordered = topologicalStages([
      { id: 'fit', kind: 'fit', inputs: { data: 'load' } },
      { id: 'load', kind: 'load', inputs: {} },
    ]);
    expect(ordered.ok && ordered.value.map((s) => s.id)).toEqual(['load', 'fit']);
    expect(topologicalStages([{ id: 'fit', kind: 'fit', inputs: { data: 'nowhere' } }])).toEqual({
      ok: false,
      error: { reason: 'unknown-input', stage: 'fit', input: 'data', target: 'nowhere' },
    });
  });
});
