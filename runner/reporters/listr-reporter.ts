import { Listr, type ListrTaskWrapper } from 'listr2';
import { terminalSafeLine as safe } from '../cli/terminal-text.ts';
import type { NodeOutcome, RunObserver } from '../run-events.ts';
import {
  estimateProgress,
  type ProgressEstimate,
  type ProgressTrack,
  trackProgress,
} from './progress-estimate.ts';
import { paceText, progressText, seconds } from './progress-text.ts';

/**
 * Live progress in a terminal: a tree with the shared stages first, then each variant with
 * its own stages; stages that report progress get a bar, their pace and the time left
 * (`progress-estimate.ts`). listr2 draws; this file only turns runner events into task state.
 * It writes to the terminal itself, so names and messages from data are made safe here (the
 * CLI's own output is made safe in runCli).
 */
export function listrReporter(
  options: { /** Milliseconds on a monotonic clock. */ now?: () => number } = {},
): RunObserver {
  const now = options.now ?? (() => performance.now());
  const pending = new Map<string, Deferred<NodeOutcome>>();
  const wrappers = new Map<string, ListrTaskWrapper<unknown, never, never>>();
  const tracks = new Map<string, ProgressTrack>();
  const started = new Set<string>();
  /** A finished stage's average pace over its last phase, for its title. */
  const finalPace = new Map<string, string>();
  let rendering: Promise<unknown> | undefined;

  const deferredFor = (key: string) => {
    let d = pending.get(key);
    if (!d) {
      d = deferred<NodeOutcome>();
      pending.set(key, d);
    }
    return d;
  };

  return {
    sweepStarted(sweep) {
      const shared = sweep.nodes.filter((n) => n.variants.length > 1);
      const nodeTask = (node: (typeof sweep.nodes)[number]) => ({
        title: `${safe(node.id)}`,
        task: async (_: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
          wrappers.set(node.key, task);
          // Every task spins from the start; the title tells a stage waiting on its inputs
          // (or for a slot) from one at work.
          if (!started.has(node.key)) task.title = `${safe(node.id)} (waiting)`;
          const outcome = await deferredFor(node.key).promise;
          switch (outcome.state) {
            case 'cached':
              task.title = `${safe(node.id)} (cached)`;
              task.skip(`${safe(node.id)} (cached)`);
              return;
            case 'done':
              task.title = `${safe(node.id)} (${[seconds(outcome.durationMs), finalPace.get(node.key)].filter(Boolean).join(', ')})`;
              return;
            case 'skipped':
              task.skip(`${safe(node.id)}: ${safe(outcome.reason)}`);
              return;
            case 'cancelled':
              throw new Error(`${safe(node.id)}: stopped`);
            case 'failed':
              throw new Error(`${safe(node.id)}: ${safe(outcome.message)}`);
          }
        },
      });
      const groups = [
        ...(shared.length > 0 ? [{ title: 'shared stages', nodes: shared }] : []),
        ...sweep.variants.map((v) => ({
          title: safe(v.name),
          nodes: sweep.nodes.filter((n) => n.variants.length === 1 && n.variants[0] === v.name),
        })),
      ];
      const list = new Listr(
        groups.map((group) => ({
          title: group.title,
          task: (_: unknown, task: ListrTaskWrapper<unknown, never, never>) =>
            task.newListr(group.nodes.map(nodeTask), {
              concurrent: true,
              exitOnError: false,
            }),
        })),
        {
          concurrent: true,
          exitOnError: false,
          renderer: 'default',
          rendererOptions: { collapseSubtasks: false, collapseSkips: true },
        },
      );
      rendering = list.run().catch(() => undefined);
    },
    nodeStarted(node) {
      started.add(node.key);
      const task = wrappers.get(node.key);
      if (task) task.title = safe(node.id);
    },
    nodeReport(node, report) {
      if (report.type === 'progress') {
        // Tracked before the task exists too, so the pace counts from the stage's first report.
        const track = trackProgress(tracks.get(node.key), report, now());
        tracks.set(node.key, track);
        const task = wrappers.get(node.key);
        if (task) task.output = safe(progressBar(estimateProgress(track)));
        return;
      }
      const task = wrappers.get(node.key);
      if (!task) return;
      if (report.type === 'metric' && report.name.endsWith('loss')) {
        task.title = `${safe(node.id)} ${safe(report.name)} ${report.value.toFixed(4)}`;
      } else if (report.type === 'log') {
        task.output = safe(report.message);
      }
    },
    nodeFinished(node, outcome) {
      const track = tracks.get(node.key);
      const perSecond = track && estimateProgress(track).perSecond;
      if (perSecond !== undefined) finalPace.set(node.key, paceText(perSecond, track?.unit));
      tracks.delete(node.key);
      deferredFor(node.key).resolve(outcome);
    },
    async sweepFinished() {
      await rendering;
    },
  };
}

/** `[#######-------------] 34% 12/35 items, 11 s/item, about 4 min 05 s left` */
export function progressBar(estimate: ProgressEstimate): string {
  const width = 20;
  const share = estimate.total > 0 ? Math.min(1, estimate.done / estimate.total) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(share * 100)}% ${progressText(estimate)}`;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
