import { describe, expect, it } from 'vitest';
import { workerEventReports } from '../../stages/model-worker/stage-reports.ts';

describe("a resumed worker's reports", () => {
  it('say where training resumed, as progress, a note and one train/resumed_from_step point', () => {
    const reports = workerEventReports({
      event: 'resumed',
      job_type: 'train',
      step: 40,
      total_steps: 160,
    });
    expect(reports).toEqual([
      { type: 'progress', done: 40, total: 160, unit: 'step' },
      { type: 'log', level: 'info', message: 'resumed from the checkpoint at step 40/160' },
      { type: 'metric', name: 'train/resumed_from_step', value: 40, step: 40 },
    ]);
  });

  it('say how many generation items were already answered', () => {
    expect(
      workerEventReports({ event: 'resumed', job_type: 'generate', done: 8, total: 24 }),
    ).toEqual([
      { type: 'progress', done: 8, total: 24, unit: 'item', note: 'generate' },
      {
        type: 'log',
        level: 'info',
        message: 'resumed generation after 8/24 items already answered',
      },
    ]);
  });
});
