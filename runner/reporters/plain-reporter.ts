import type { RunObserver } from '../run-events.ts';
import { shortKey } from '../stage-key.ts';
import { estimateProgress, type ProgressTrack, trackProgress } from './progress-estimate.ts';
import { progressText, seconds } from './progress-text.ts';

/**
 * A phase's first progress line shows at once (a person sees each phase begin). After it, a line
 * is due when 10 s have passed since the last one, and a tenth of the time the stage has run so
 * far: the first 100 s of every stage show every 10 s, when a person is most likely watching;
 * after that the gaps grow with the stage, so its lines grow with the logarithm of its length
 * instead of flooding a CI log. For a stage that reports every second: 21 lines over 5 minutes
 * (the demo's QA stage takes about that), 45 over an hour, 67 over ten hours
 * (`tests/unit/plain-reporter.unit.test.ts` pins the hour). The last line of each phase (every
 * unit done) is always printed: it gives the phase's average pace.
 */
export const PROGRESS_LINE_EVERY_MS = 10_000;
export const PROGRESS_LINE_SHARE_OF_RUN = 0.1;

export interface PlainReporterOptions {
  /** Milliseconds on a monotonic clock; tests inject one. */
  now?: () => number;
}

interface NodeLines {
  startedAt: number;
  lastLineAt: number;
  track?: ProgressTrack;
  /** The current phase's last line was printed (a stage may report its end twice). */
  endPrinted: boolean;
}

/** One line per event, for CI logs and pipes: no cursor movement, progress throttled (above). */
export function plainReporter(
  write: (line: string) => void,
  options: PlainReporterOptions = {},
): RunObserver {
  const now = options.now ?? (() => performance.now());
  const nodes = new Map<string, NodeLines>();
  const linesOf = (key: string, at: number) => {
    let lines = nodes.get(key);
    if (!lines) {
      lines = { startedAt: at, lastLineAt: at, endPrinted: false };
      nodes.set(key, lines);
    }
    return lines;
  };
  return {
    sweepStarted(sweep) {
      write(
        `${sweep.specName}: ${sweep.variants.length} variant(s), ${sweep.nodes.length} stage(s)`,
      );
    },
    nodeStarted(node) {
      const at = now();
      nodes.set(node.key, { startedAt: at, lastLineAt: at, endPrinted: false });
      write(`start   ${node.id} (${node.kind} ${shortKey(node.key)})`);
    },
    nodeReport(node, report) {
      if (report.type === 'progress') {
        const at = now();
        const lines = linesOf(node.key, at);
        const previous = lines.track;
        lines.track = trackProgress(previous, report, at);
        // A new phase starts a new track, from its own first sample, and shows at once: a
        // person (or a script waiting for a training's first step) sees each phase begin.
        const newPhase = lines.track.first !== previous?.first;
        if (newPhase) lines.endPrinted = false;
        const end = report.total > 0 && report.done >= report.total;
        const due =
          newPhase ||
          at - lines.lastLineAt >=
            Math.max(PROGRESS_LINE_EVERY_MS, PROGRESS_LINE_SHARE_OF_RUN * (at - lines.startedAt));
        if (end ? lines.endPrinted : !due) return;
        lines.lastLineAt = at;
        lines.endPrinted = end;
        write(`        ${node.id} ${progressText(estimateProgress(lines.track))}`);
      } else if (report.type === 'log') {
        write(`${report.level === 'warn' ? 'warning' : 'note   '} ${node.id}: ${report.message}`);
      }
    },
    nodeFinished(node, outcome) {
      nodes.delete(node.key);
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
