import type { Pipeline } from '../pipeline.ts';
import type { RunObserver, SweepInfo } from '../run-events.ts';
import { createTracking } from './create-tracking.ts';
import { modelTrainingViewUrl } from './experiment-kind.ts';

/**
 * The tracking session of one `dermatune run`, in the shape the CLI's `ctx.tracking` expects:
 * an observer, a line saying where the runs can be seen, and a close that reports what is left
 * for `dermatune sync`. Tracking problems are reported, never fatal to the run.
 */
export async function trackingForRun(
  sweep: SweepInfo,
  io: { env: Readonly<Record<string, string | undefined>>; stderr(text: string): void },
  /** Required: its kinds' declarations name the metric prefixes and the dataset inputs. */
  pipeline: Pick<Pipeline, 'kinds'>,
): Promise<{ observer: RunObserver; where: string; close(): Promise<void> }> {
  const log = (line: string) => io.stderr(`${line}\n`);
  const tracking = await createTracking({
    storeDir: sweep.storeDir,
    env: io.env,
    entryPoint: 'dermatune run',
    log,
    kinds: pipeline.kinds,
  });
  if (!tracking.ok) {
    log(`tracking: ${tracking.error.message}; this run is not tracked`);
    return { observer: {}, where: 'not tracked', close: async () => {} };
  }
  const { target } = tracking.value;
  const where =
    target === 'off'
      ? 'not tracked (DERMATUNE_TRACKING=off)'
      : target === 'embedded'
        ? `MLflow, in the store; browse them with \`npm run ui\` (${modelTrainingViewUrl('http://127.0.0.1:5000')})`
        : modelTrainingViewUrl(target.url);
  return {
    observer: tracking.value.observer,
    where,
    close: async () => {
      const report = await tracking.value.close();
      if (report.pending > 0) {
        log(
          `tracking: ${report.pending} call(s) kept in the journal (${report.lastError ?? 'server not reached'}); ` +
            'they are sent at the next run or by `dermatune sync`',
        );
      }
    },
  };
}
