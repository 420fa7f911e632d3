import { describe, expect, test } from 'vitest';
import { progressBar } from '../../runner/reporters/listr-reporter.ts';
import {
  estimateProgress,
  type ProgressTrack,
  trackProgress,
} from '../../runner/reporters/progress-estimate.ts';
import { durationText, paceText, progressText } from '../../runner/reporters/progress-text.ts';
import type { StageReport } from '../../runner/stage-kind.ts';

type Progress = Extract<StageReport, { type: 'progress' }>;

/** Feeds reports, each at its time in seconds, and returns the text after the last. */
function textAfter(reports: [seconds: number, report: Omit<Progress, 'type'>][]): string {
  let track: ProgressTrack | undefined;
  for (const [at, report] of reports) {
    track = trackProgress(track, { type: 'progress', ...report }, at * 1000);
  }
  if (!track) throw new Error('no reports');
  return progressText(estimateProgress(track));
}

const items = (done: number) => ({ done, total: 48, unit: 'items' });

describe('a stage’s pace and time left', () => {
  test('one report gives the count alone: no pace can be measured yet', () => {
    expect(textAfter([[3, items(1)]])).toBe('1/48 items');
  });

  test('two reports give the pace and the time left at it', () => {
    expect(
      textAfter([
        [2, items(1)],
        [4, items(2)],
      ]),
    ).toBe('2/48 items, 2.0 s/item, about 1 min 32 s left');
  });

  test('faster than one a second, the pace is given per second', () => {
    expect(
      textAfter([
        [0, items(10)],
        [4, items(40)],
      ]),
    ).toBe('40/48 items, 7.5 items/s, about 2 s left');
  });

  test('a resumed stage’s burst of memoised items is forgotten from its first real call', () => {
    // 20 items replayed from the memo within 0.2 s, then one real call every 4 s: an average
    // since the start would say 4.8 items/s after the first call.
    const burst: [number, Omit<Progress, 'type'>][] = Array.from({ length: 20 }, (_, i) => [
      i / 100,
      items(i + 1),
    ]);
    const calls = (upTo: number): [number, Omit<Progress, 'type'>][] =>
      Array.from({ length: upTo }, (_, i) => [0.2 + 4 * (i + 1), items(21 + i)]);
    expect(textAfter([...burst, ...calls(1)])).toBe(
      '21/48 items, 4.0 s/item, about 1 min 49 s left',
    );
    expect(textAfter([...burst, ...calls(10)])).toBe(
      '30/48 items, 4.0 s/item, about 1 min 12 s left',
    );
  });

  test('a pace that changes late is followed within a minute', () => {
    // One item a second for 200 s, then one every 2 s: the later half of the stage would still
    // hold 65 s of the fast pace, its last minute holds none.
    const fast: [number, Omit<Progress, 'type'>][] = Array.from({ length: 200 }, (_, i) => [
      i + 1,
      { done: i + 1, total: 300, unit: 'items' },
    ]);
    const slow: [number, Omit<Progress, 'type'>][] = Array.from({ length: 35 }, (_, k) => [
      200 + 2 * (k + 1),
      { done: 201 + k, total: 300, unit: 'items' },
    ]);
    expect(textAfter([...fast, ...slow])).toBe('235/300 items, 2.0 s/item, about 2 min 10 s left');
  });

  test('a new phase is measured from its own start', () => {
    expect(
      textAfter([
        [0, { done: 10, total: 20, unit: 'example', note: 'prepare' }],
        [1, { done: 20, total: 20, unit: 'example', note: 'prepare' }],
        [5, { done: 1, total: 64, unit: 'step' }],
      ]),
    ).toBe('1/64 steps');
  });

  test('a count that goes back starts over', () => {
    expect(
      textAfter([
        [0, items(30)],
        [10, items(40)],
        [20, items(2)],
      ]),
    ).toBe('2/48 items');
  });

  test('the last report gives the average pace of the whole phase and no time left', () => {
    expect(
      textAfter([
        [0, { done: 1, total: 4, unit: 'step' }],
        [1, { done: 2, total: 4, unit: 'step' }],
        [2, { done: 3, total: 4, unit: 'step' }],
        [300, { done: 4, total: 4, unit: 'step' }],
      ]),
    ).toBe('4/4 steps, 100 s/step');
  });

  test('units that differ in cost get no pace', () => {
    expect(
      textAfter([
        [0, { done: 0, total: 2, unit: 'phase', note: 'scoring', rate: false }],
        [0, { done: 0, total: 2, unit: 'phase', note: 'writing', rate: false }],
        [9, { done: 1, total: 2, unit: 'phase', note: 'writing', rate: false }],
      ]),
    ).toBe('1/2 phases (writing)');
  });
});

describe('durations and paces as a person reads them', () => {
  test('a wait is rounded up to whole seconds, then minutes past an hour', () => {
    expect([400, 1000, 59_200, 61_000, 3_599_400, 3_600_000, 7_380_000].map(durationText)).toEqual([
      '1 s',
      '1 s',
      '1 min 00 s',
      '1 min 01 s',
      '1 h 00 min',
      '1 h 00 min',
      '2 h 03 min',
    ]);
  });

  test('a pace has two significant digits, per second from one a second up, in the stage’s unit', () => {
    expect([
      paceText(12.34, 'items'),
      paceText(2.5, 'step'),
      paceText(1, 'step'),
      paceText(0.4, 'items'),
      paceText(1 / 120, 'step'),
      paceText(3, undefined),
    ]).toEqual([
      '12 items/s',
      '2.5 steps/s',
      '1.0 steps/s',
      '2.5 s/item',
      '120 s/step',
      '3.0 units/s',
    ]);
  });
});

test('the terminal’s bar puts the share done before the same text', () => {
  expect(progressBar({ done: 16, total: 48, unit: 'items', perSecond: 0.5, leftMs: 64_000 })).toBe(
    '[#######-------------] 33% 16/48 items, 2.0 s/item, about 1 min 04 s left',
  );
});
