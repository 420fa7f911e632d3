import { describe, expect, it } from 'vitest';
import { describeOrigin, formatDiagnostic } from '../../runner/diagnostic.ts';

describe('diagnostic origin', () => {
  it('says where a value came from: an override, the variants, an extended file', () => {
    expect(describeOrigin({ kind: 'override', text: '--set data.items=0' })).toBe(
      'from the override --set data.items=0',
    );
    expect(describeOrigin({ kind: 'variants', names: ['x-1'] })).toBe('in variant x-1');
    expect(describeOrigin({ kind: 'variants', names: ['x-1', 'x-2'] })).toBe(
      'in variants x-1, x-2',
    );
    expect(describeOrigin({ kind: 'extended', file: 'base.yaml', by: 'child.yaml' })).toBe(
      'in base.yaml, extended by child.yaml',
    );
  });

  it('cuts a long list of variants after four and counts them', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(describeOrigin({ kind: 'variants', names })).toBe(
      'in variants a, b, c, d, ... (6 variants)',
    );
  });

  it('follows the message when the diagnostic has no span', () => {
    const text = formatDiagnostic({
      message: 'data.items must be >= 1 (got 0)',
      origin: { kind: 'override', text: '--set data.items=0' },
    });
    expect(text).toBe(
      'error: data.items must be >= 1 (got 0) (from the override --set data.items=0)',
    );
  });
});
