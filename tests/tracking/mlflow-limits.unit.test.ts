import { describe, expect, it } from 'vitest';
import { chunkLogBatch, MLFLOW_LIMITS, sanitizeKey } from '../../runner/tracking/mlflow-limits.ts';

describe('MLflow limits', () => {
  it('maps keys onto the characters and paths MLflow accepts', () => {
    expect(sanitizeKey('eval/bleu')).toBe('eval/bleu');
    expect(sanitizeKey('train.lora.rank')).toBe('train.lora.rank');
    expect(sanitizeKey('eval/bleu@4 (x):y')).toBe('eval/bleu_4 _x__y');
    expect(sanitizeKey('/a//b/./c/../d/')).toBe('a/b/c/__/d');
    expect(sanitizeKey('')).toBe('_');
    expect(sanitizeKey('x'.repeat(300))).toHaveLength(MLFLOW_LIMITS.keyChars);
  });

  it('splits a batch so no request passes a count or size limit', () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => ({
      key: `m${i % 7}`,
      value: i,
      timestamp: 1,
      step: i,
    }));
    const params = Array.from({ length: 250 }, (_, i) => ({
      key: `p${i}`,
      value: 'v'.repeat(9000),
    }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `t${i}`, value: 'x' }));
    const chunks = chunkLogBatch({ metrics, params, tags });
    for (const chunk of chunks) {
      expect(chunk.metrics.length).toBeLessThanOrEqual(1000);
      expect(chunk.params.length).toBeLessThanOrEqual(100);
      expect(chunk.tags.length).toBeLessThanOrEqual(100);
      expect(chunk.metrics.length + chunk.params.length + chunk.tags.length).toBeLessThanOrEqual(
        1000,
      );
      expect(Buffer.byteLength(JSON.stringify({ run_id: 'x'.repeat(32), ...chunk }))).toBeLessThan(
        1_000_000,
      );
      for (const p of chunk.params) expect(p.value.length).toBeLessThanOrEqual(6000);
    }
    expect(chunks.flatMap((c) => c.metrics)).toHaveLength(2500);
    expect(chunks.flatMap((c) => c.params)).toHaveLength(250);
    expect(chunks.flatMap((c) => c.tags)).toHaveLength(120);
    // Order within each kind is kept: step metrics arrive in step order.
    expect(chunks.flatMap((c) => c.metrics).map((m) => m.step)).toEqual([...Array(2500).keys()]);
  });
});
