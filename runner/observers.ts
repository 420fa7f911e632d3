import type { RunObserver } from './run-events.ts';

/** Fans every hook out to several observers, in order. */
export function combineObservers(observers: readonly RunObserver[]): RunObserver {
  return {
    async sweepStarted(sweep) {
      for (const o of observers) await o.sweepStarted?.(sweep);
    },
    async nodeStarted(node) {
      for (const o of observers) await o.nodeStarted?.(node);
    },
    nodeReport(node, report) {
      for (const o of observers) o.nodeReport?.(node, report);
    },
    async nodeFinished(node, outcome) {
      for (const o of observers) await o.nodeFinished?.(node, outcome);
    },
    async sweepFinished(sweep, status) {
      for (const o of observers) await o.sweepFinished?.(sweep, status);
    },
  };
}
