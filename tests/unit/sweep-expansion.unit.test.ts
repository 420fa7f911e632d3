import { describe, expect, it } from 'vitest';
import { expandSweep, selectVariants } from '../../runner/sweep.ts';

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    data: { type: 'object', properties: { size: { type: 'integer' }, kind: { type: 'string' } } },
    train: { type: 'object', properties: { method: { type: 'string' } } },
  },
};
const spec = { file: '/specs/study.yaml', layers: [] };

function expand(sweep: Record<string, unknown>) {
  return expandSweep(spec, { name: 'study', sweep }, schema);
}

describe('sweep expansion', () => {
  it('takes the cartesian product of the axes, named by the template', () => {
    const result = expand({
      name: '{data.kind}-{data.size}',
      'data.kind': ['qa', 'cap'],
      'data.size': [5, 10],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value.problems).toEqual([]);
    expect(result.value.variants.map((v) => [v.name, v.axes])).toEqual([
      ['qa-5', { 'data.kind': 'qa', 'data.size': 5 }],
      ['qa-10', { 'data.kind': 'qa', 'data.size': 10 }],
      ['cap-5', { 'data.kind': 'cap', 'data.size': 5 }],
      ['cap-10', { 'data.kind': 'cap', 'data.size': 10 }],
    ]);
    expect(result.value.variants[1]?.spec.layers).toEqual([
      { type: 'variant', variant: 'qa-10', path: ['data', 'kind'], value: 'qa', span: undefined },
      { type: 'variant', variant: 'qa-10', path: ['data', 'size'], value: 10, span: undefined },
    ]);
  });

  it('drops excluded combinations and adds included variants with their overrides', () => {
    const result = expand({
      'data.size': [5, 10],
      exclude: [{ 'data.size': 10 }],
      include: [{ name: 'untuned', description: 'baseline', set: { 'train.method': 'none' } }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value.variants.map((v) => v.name)).toEqual(['5', 'untuned']);
    expect(result.value.variants[1]).toMatchObject({
      description: 'baseline',
      axes: {},
      spec: { layers: [{ type: 'variant', path: ['train', 'method'], value: 'none' }] },
    });
  });

  it('refuses an axis that is no setting, suggesting the closest one', () => {
    const result = expand({ 'data.sise': [1] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.map((d) => d.message)).toEqual([
      'sweep axis "data.sise" is not a setting of the spec; did you mean "data.size"?',
    ]);
  });

  it('reports names that clash and a sweep left empty', () => {
    const clash = expand({ name: '{data.kind}', 'data.kind': ['qa'], 'data.size': [1, 2] });
    expect(clash.ok && clash.value.problems.map((d) => d.message)[0]).toMatch(
      /^variant names clash \("qa"\)/,
    );
    const empty = expand({ 'data.size': [1], exclude: [{ 'data.size': 1 }] });
    expect(empty.ok && empty.value.problems.map((d) => d.message)).toEqual([
      'the sweep has no variants left after exclude',
    ]);
  });

  it('keeps only the variants --only names, and refuses unknown ones', () => {
    const result = expand({ 'data.size': [5, 10] });
    if (!result.ok) throw new Error('expand failed');
    expect(selectVariants(result.value.variants, ['10']).ok).toBe(true);
    const unknown = selectVariants(result.value.variants, ['50']);
    expect(!unknown.ok && unknown.error[0]?.message).toBe(
      '--only 50: no such variant; did you mean "5"? (variants: 5, 10)',
    );
  });
});
