import { describe, expect, it } from 'vitest';
import { MetricBuffer, metricKey } from '../../runner/tracking/metric-buffer.ts';
import { outcomeBatch } from '../../runner/tracking/outcome-batch.ts';

describe('metric buffer', () => {
  it('numbers steps a stage did not give, per key, and hands out what it holds once', () => {
    const buffer = new MetricBuffer();
    buffer.add('train/loss', 2.5, 10);
    buffer.add('train/loss', 2.0, 11);
    buffer.add('train/lr', 0.1, 12, 7);
    buffer.add('train/lr', 0.09, 13);
    expect(buffer.take()).toEqual([
      { key: 'train/loss', value: 2.5, timestamp: 10, step: 0 },
      { key: 'train/loss', value: 2.0, timestamp: 11, step: 1 },
      { key: 'train/lr', value: 0.1, timestamp: 12, step: 7 },
      { key: 'train/lr', value: 0.09, timestamp: 13, step: 8 },
    ]);
    expect(buffer.take()).toEqual([]);
  });

  it('leaves out the steps a resumed run already journalled, but keeps counting past them', () => {
    const buffer = new MetricBuffer();
    buffer.resume(new Map([['train/loss', new Set([0, 1])]]));
    for (const value of [3, 2, 1]) buffer.add('train/loss', value, 0);
    expect(buffer.take()).toEqual([{ key: 'train/loss', value: 1, timestamp: 0, step: 2 }]);
    expect(buffer.alreadyLogged('train/loss', 1)).toBe(true);
    expect(buffer.alreadyLogged('train/loss', 2)).toBe(false);
  });

  it('asks to be written once it holds a batch', () => {
    const buffer = new MetricBuffer();
    const full = Array.from({ length: MetricBuffer.BATCH }, (_, i) => buffer.add('m', i, 0));
    expect(full.indexOf(true)).toBe(MetricBuffer.BATCH - 1);
  });

  it('prefixes a metric by its stage kind, unless its name holds a slash', () => {
    // As the study's kinds declare them (tracking.metricPrefix); curate declares none.
    const PREFIXES = { evaluate: 'eval', annotate: 'llm/annotate', train: 'train' };
    expect(metricKey(PREFIXES, 'evaluate', 'bleu')).toBe('eval/bleu');
    expect(metricKey(PREFIXES, 'annotate', 'calls')).toBe('llm/annotate/calls');
    expect(metricKey(PREFIXES, 'curate', 'kept')).toBe('curate/kept');
    expect(metricKey(PREFIXES, 'train', 'train/loss')).toBe('train/loss');
  });
});

describe('outcome batch', () => {
  const node = { id: 'evaluate[a]', kind: 'evaluate', key: 'k-eval', variants: ['a'] };
  const options = {
    now: 5,
    metricKey: (name: string) => `eval/${name}`,
    alreadyLogged: (key: string) => key === 'eval/rouge',
  };

  it("logs a finished node's summary metrics at step 0, its duration and its tags", () => {
    const batch = outcomeBatch(
      node,
      {
        state: 'done',
        durationMs: 1500,
        outputDir: '/nowhere',
        summary: { metrics: { bleu: 0.25, rouge: 0.5, nan: Number.NaN }, tags: { model: 'm' } },
      },
      options,
    );
    expect(batch).toEqual({
      metrics: [
        { key: 'eval/bleu', value: 0.25, timestamp: 5, step: 0 },
        { key: 'duration_s/evaluate', value: 1.5, timestamp: 5, step: 0 },
      ],
      tags: [
        { key: 'dermatune.stage.evaluate.key', value: 'k-eval' },
        { key: 'dermatune.stage.evaluate.state', value: 'done' },
        { key: 'dermatune.stage.evaluate.model', value: 'm' },
      ],
    });
  });

  it('says why a node failed or was skipped, and gives a skipped one no duration', () => {
    const failed = outcomeBatch(
      node,
      { state: 'failed', durationMs: 10, reason: 'worker-error', message: 'out of memory' },
      options,
    );
    expect(failed.tags.at(-1)).toEqual({
      key: 'dermatune.stage.evaluate.failure',
      value: 'worker-error: out of memory',
    });
    const skipped = outcomeBatch(node, { state: 'skipped', reason: 'its input failed' }, options);
    expect(skipped).toEqual({
      metrics: [],
      tags: [
        { key: 'dermatune.stage.evaluate.key', value: 'k-eval' },
        { key: 'dermatune.stage.evaluate.state', value: 'skipped' },
        { key: 'dermatune.stage.evaluate.skipped', value: 'its input failed' },
      ],
    });
  });
});
