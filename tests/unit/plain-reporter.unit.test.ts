import { expect, test } from 'vitest';
import { plainReporter } from '../../runner/reporters/plain-reporter.ts';
import type { NodeInfo, RunObserver, SweepInfo } from '../../runner/run-events.ts';
import type { StageReport } from '../../runner/stage-kind.ts';
import { workerEventReports } from '../../stages/model-worker/stage-reports.ts';
import type { WorkerEvent } from '../../stages/model-worker/worker-job.ts';

/** The reporter CI gets, on a clock the test moves, and the lines it printed. */
function reporterOnClock() {
  let nowMs = 0;
  const lines: string[] = [];
  const reporter = plainReporter((line) => lines.push(line), { now: () => nowMs });
  return {
    reporter,
    lines,
    at(seconds: number) {
      nowMs = seconds * 1000;
    },
  };
}

const node = (id: string, kind: string): NodeInfo => ({
  id,
  kind,
  key: `${kind}${'0'.repeat(60)}`,
  variants: ['v'],
});

function drive(
  run: ReturnType<typeof reporterOnClock>,
  stage: NodeInfo,
  events: [seconds: number, report: StageReport][],
) {
  const r: RunObserver = run.reporter;
  for (const [at, report] of events) {
    run.at(at);
    r.nodeReport?.(stage, report);
  }
}

test('an LLM stage in CI prints its first item at once, then a line every 10 s with its pace and time left, then its end', () => {
  const run = reporterOnClock();
  const qa = node('generate-qa', 'generate-qa');
  run.reporter.nodeStarted?.(qa);
  // One item every 2 s; a warning midway is never held back.
  drive(
    run,
    qa,
    Array.from({ length: 48 }, (_, i): [number, StageReport] => [
      2 * (i + 1),
      { type: 'progress', done: i + 1, total: 48, unit: 'items' },
    ]),
  );
  run.at(97);
  run.reporter.nodeReport?.(qa, { type: 'log', level: 'warn', message: '2 answers dropped' });
  run.reporter.nodeFinished?.(qa, {
    state: 'done',
    durationMs: 97_000,
    outputDir: '/store/x',
    summary: {},
  });
  expect(run.lines).toEqual([
    'start   generate-qa (generate-qa generate-q)',
    '        generate-qa 1/48 items',
    '        generate-qa 6/48 items, 2.0 s/item, about 1 min 24 s left',
    '        generate-qa 11/48 items, 2.0 s/item, about 1 min 14 s left',
    '        generate-qa 16/48 items, 2.0 s/item, about 1 min 04 s left',
    '        generate-qa 21/48 items, 2.0 s/item, about 54 s left',
    '        generate-qa 26/48 items, 2.0 s/item, about 44 s left',
    '        generate-qa 31/48 items, 2.0 s/item, about 34 s left',
    '        generate-qa 36/48 items, 2.0 s/item, about 24 s left',
    '        generate-qa 41/48 items, 2.0 s/item, about 14 s left',
    '        generate-qa 46/48 items, 2.0 s/item, about 4 s left',
    '        generate-qa 48/48 items, 2.0 s/item',
    'warning generate-qa: 2 answers dropped',
    'done    generate-qa in 97.0 s',
  ]);
});

test('a training prints each phase as it begins and ends, and its steps as they slow down', () => {
  const run = reporterOnClock();
  const train = node('train[QApairs-18]', 'train');
  run.reporter.nodeStarted?.(train);
  const prepare = (done: number): StageReport => ({
    type: 'progress',
    done,
    total: 126,
    unit: 'example',
    note: 'prepare',
  });
  const step = (done: number): StageReport => ({ type: 'progress', done, total: 64, unit: 'step' });
  drive(run, train, [
    [1, prepare(60)],
    [2, prepare(126)],
    // 0.5 s a step for 20 steps, then 1 s a step: the pace shown falls as the steps slow.
    ...Array.from({ length: 20 }, (_, i): [number, StageReport] => [
      3 + 0.5 * (i + 1),
      step(i + 1),
    ]),
    ...Array.from({ length: 44 }, (_, i): [number, StageReport] => [13 + (i + 1), step(21 + i)]),
  ]);
  expect(run.lines).toEqual([
    'start   train[QApairs-18] (train train00000)',
    '        train[QApairs-18] 60/126 examples (prepare)',
    '        train[QApairs-18] 126/126 examples (prepare), 66 examples/s',
    '        train[QApairs-18] 1/64 steps',
    '        train[QApairs-18] 21/64 steps, 1.8 steps/s, about 24 s left',
    '        train[QApairs-18] 31/64 steps, 1.0 steps/s, about 33 s left',
    '        train[QApairs-18] 41/64 steps, 1.0 steps/s, about 23 s left',
    '        train[QApairs-18] 51/64 steps, 1.0 steps/s, about 13 s left',
    '        train[QApairs-18] 61/64 steps, 1.0 steps/s, about 3 s left',
    '        train[QApairs-18] 64/64 steps, 1.2 steps/s',
  ]);
});

test('a resumed training, from the worker’s own events, is measured from where it resumed', () => {
  const run = reporterOnClock();
  const train = node('train[QApairs-18]', 'train');
  run.reporter.nodeStarted?.(train);
  const events: [number, WorkerEvent][] = [
    [
      3,
      {
        event: 'started',
        job_type: 'train',
        device: 'cpu',
        precision: 'float32',
        model: 'smolvlm-smollm2-standin',
        model_path: '/models/standin',
      },
    ],
    ...Array.from({ length: 65 }, (_, i): [number, WorkerEvent] => [
      4 + 0.02 * (i + 1),
      { event: 'progress', phase: 'prepare', done: i + 1, total: 65, unit: 'example' },
    ]),
    [6, { event: 'resumed', job_type: 'train', step: 20, total_steps: 34 }],
    ...Array.from({ length: 14 }, (_, k): [number, WorkerEvent] => [
      6 + 1.5 * (k + 1),
      {
        event: 'metric',
        step: 21 + k,
        total_steps: 34,
        epoch: 1 + k / 14,
        loss: 2 - k / 10,
        learning_rate: 0.001,
        grad_norm: 1,
        tokens: 400,
        tokens_per_second: 260,
      },
    ]),
  ];
  for (const [at, event] of events) {
    drive(
      run,
      train,
      workerEventReports(event).map((report): [number, StageReport] => [at, report]),
    );
  }
  expect(run.lines).toEqual([
    'start   train[QApairs-18] (train train00000)',
    'note    train[QApairs-18]: model worker: train smolvlm-smollm2-standin on cpu (float32)',
    '        train[QApairs-18] 1/65 examples (prepare)',
    '        train[QApairs-18] 65/65 examples (prepare), 50 examples/s',
    '        train[QApairs-18] 20/34 steps',
    'note    train[QApairs-18]: resumed from the checkpoint at step 20/34',
    '        train[QApairs-18] 27/34 steps, 1.5 s/step, about 11 s left',
    '        train[QApairs-18] 34/34 steps, 1.5 s/step',
  ]);
});

test('an hour-long training at a step a second prints 45 lines, not 3600', () => {
  const run = reporterOnClock();
  const train = node('train[paper]', 'train');
  run.reporter.nodeStarted?.(train);
  drive(
    run,
    train,
    Array.from({ length: 3600 }, (_, i): [number, StageReport] => [
      i + 1,
      { type: 'progress', done: i + 1, total: 3600, unit: 'step' },
    ]),
  );
  const steps = run.lines.slice(1).map((line) => Number(/ (\d+)\/3600/.exec(line)?.[1]));
  // The first step at once, then every 10 s for the first 100 s, then once a tenth of the time
  // run so far has passed, and the end.
  expect(steps.slice(0, 12)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 102, 114]);
  expect(steps.slice(-4)).toEqual([2782, 3092, 3436, 3600]);
  expect(steps).toHaveLength(45);
});

test('a sweep prints its shape and its end; a cached stage is one line', () => {
  const run = reporterOnClock();
  const sweep = {
    specName: 'demo',
    variants: [{ name: 'v' }],
    nodes: [node('curate', 'curate')],
  } as unknown as SweepInfo;
  run.reporter.sweepStarted?.(sweep);
  run.reporter.nodeFinished?.(node('curate', 'curate'), {
    state: 'cached',
    durationMs: 0,
    outputDir: '/store/y',
    summary: {},
  });
  run.reporter.sweepFinished?.(sweep, 'finished');
  expect(run.lines).toEqual(['demo: 1 variant(s), 1 stage(s)', 'cached  curate', 'demo: finished']);
});
