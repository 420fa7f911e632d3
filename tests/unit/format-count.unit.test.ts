import { expect, test } from 'vitest';
import { formatCount } from '../../stages/biomedica/source-estimate.ts';

test('counts read as toLocaleString writes them in English', () => {
  for (const n of [0, 7, 999, 1_000, 12_345, 999_999, 1_234_567, 24_000_000]) {
    expect(formatCount(n)).toBe(n.toLocaleString('en'));
  }
});
