import type { StageReport } from '../stage-kind.ts';

type ProgressReport = Extract<StageReport, { type: 'progress' }>;

/**
 * How fast a stage moves and how long it has left, from its progress reports and the times
 * they came. Pure: the caller passes the time (its injected clock), so tests assert exact text.
 *
 * The rate is taken over the later half of the phase so far, at most its last minute, not since
 * its start, for two things seen in this project's stages: a resumed LLM stage replays its
 * memoised items in a burst before its first real call, and on a shared machine the pace moves
 * with the load (the QA stage went from 6 to 17 s an item as other work started). An average
 * since the start would carry the burst, and lag the load, for the whole stage; the later half
 * forgets a burst once the real work has outlasted it, and the minute follows a pace that moves.
 */
export const RATE_WINDOW_MS = 60_000;

export interface ProgressSample {
  atMs: number;
  done: number;
}

/** What one stage's current phase has reported so far. */
export interface ProgressTrack {
  total: number;
  unit?: string;
  note?: string;
  /** False when the stage said its units differ in cost (evaluate's phases): no rate is given. */
  timed: boolean;
  /** The phase's first report, for the average the final line gives. */
  first: ProgressSample;
  /** The reports within the window, and the last one before it, oldest first. */
  recent: ProgressSample[];
}

export interface ProgressEstimate {
  done: number;
  total: number;
  unit?: string;
  note?: string;
  /** Units per second: over the window while running, over the whole phase once done. */
  perSecond?: number;
  /**
   * Time left at that rate, as of the last report (no countdown between reports: a stalled
   * stage should not count down to a promise it cannot keep); absent when done.
   */
  leftMs?: number;
}

/**
 * The track after one more report. A new total, unit or note is a new phase (train prepares its
 * examples, then steps), and so is a count that goes back (a stage that starts over): each is
 * measured from its own first report.
 */
export function trackProgress(
  track: ProgressTrack | undefined,
  report: ProgressReport,
  atMs: number,
): ProgressTrack {
  const sample = { atMs, done: report.done };
  const last = track?.recent.at(-1);
  if (
    track === undefined ||
    last === undefined ||
    track.total !== report.total ||
    track.unit !== report.unit ||
    track.note !== report.note ||
    report.done < last.done
  ) {
    return {
      total: report.total,
      ...(report.unit === undefined ? {} : { unit: report.unit }),
      ...(report.note === undefined ? {} : { note: report.note }),
      timed: report.rate !== false,
      first: sample,
      recent: [sample],
    };
  }
  const recent = [...track.recent, sample];
  // The window's start only moves forward, so what falls out of it is never needed again. One
  // sample older than it is kept, so the rate spans the whole window.
  const start = Math.max(atMs - RATE_WINDOW_MS, (track.first.atMs + atMs) / 2);
  const inWindow = recent.findIndex((s) => s.atMs >= start);
  return { ...track, recent: recent.slice(Math.max(0, inWindow - 1)) };
}

/** The track as numbers to show. */
export function estimateProgress(track: ProgressTrack): ProgressEstimate {
  const last = track.recent.at(-1) ?? track.first;
  const base = {
    done: last.done,
    total: track.total,
    ...(track.unit === undefined ? {} : { unit: track.unit }),
    ...(track.note === undefined ? {} : { note: track.note }),
  };
  if (!track.timed) return base;
  const finished = track.total > 0 && last.done >= track.total;
  const from = finished ? track.first : (track.recent[0] ?? track.first);
  const perSecond = rate(from, last);
  if (perSecond === undefined) return base;
  if (finished) return { ...base, perSecond };
  return { ...base, perSecond, leftMs: ((track.total - last.done) / perSecond) * 1000 };
}

/** Units per second between two samples; none until some units were done in some time. */
function rate(from: ProgressSample, to: ProgressSample): number | undefined {
  const units = to.done - from.done;
  const ms = to.atMs - from.atMs;
  return units > 0 && ms > 0 ? (units * 1000) / ms : undefined;
}
