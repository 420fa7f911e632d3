import type { RunObserver } from '../run-events.ts';
import { shortKey } from '../stage-key.ts';

/**
 * One line per event, for CI logs and pipes: no cursor movement, progress at most every
 * ten percent so a long training does not flood the log.
 */
export function plainReporter(write: (line: string) => void): RunObserver {
  const lastDecile = new Map<string, number>();
  return {
    sweepStarted(sweep) {
      write(
        `${sweep.specName}: ${sweep.variants.length} variant(s), ${sweep.nodes.length} stage(s)`,
      );
    },
    nodeStarted(node) {
      write(`start   ${node.id} (${node.kind} ${shortKey(node.key)})`);
    },
    nodeReport(node, report) {
      if (report.type === 'progress' && report.total > 0) {
        const decile = Math.floor((10 * report.done) / report.total);
        if (decile === lastDecile.get(node.key)) return;
        lastDecile.set(node.key, decile);
        const unit = report.unit ? ` ${report.unit}` : '';
        write(
          `        ${node.id} ${report.done}/${report.total}${unit}${report.note ? ` ${report.note}` : ''}`,
        );
      } else if (report.type === 'log') {
        write(`${report.level === 'warn' ? 'warning' : 'note   '} ${node.id}: ${report.message}`);
      }
    },
    nodeFinished(node, outcome) {
      switch (outcome.state) {
        case 'done':
          write(`done    ${node.id} in ${seconds(outcome.durationMs)}`);
          break;
        case 'cached':
          write(`cached  ${node.id}`);
          break;
        case 'failed':
          write(`FAILED  ${node.id}: ${outcome.message} [${outcome.reason}]`);
          break;
        case 'cancelled':
          write(`stopped ${node.id}`);
          break;
        case 'skipped':
          write(`skipped ${node.id}: ${outcome.reason}`);
          break;
      }
    },
    sweepFinished(sweep, status) {
      write(`${sweep.specName}: ${status}`);
    },
  };
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
