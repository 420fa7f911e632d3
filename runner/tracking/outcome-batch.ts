import type { NodeInfo, NodeOutcome } from '../run-events.ts';
import { MLFLOW_LIMITS, truncateValue } from './mlflow-limits.ts';
import type { MlflowMetric, MlflowTag } from './mlflow-types.ts';

/**
 * What one node's outcome adds to a variant's run: its key and state as tags, its summary's
 * metrics at step 0, its duration, and why it failed or was skipped. Metrics a resumed run
 * already holds are left out.
 */
export function outcomeBatch(
  node: NodeInfo,
  outcome: NodeOutcome,
  options: {
    now: number;
    /** The MLflow name of one of the kind's summary metrics. */
    metricKey: (name: string) => string;
    alreadyLogged: (key: string, step: number) => boolean;
  },
): { metrics: MlflowMetric[]; tags: MlflowTag[] } {
  const { now } = options;
  const stage = `dermatune.stage.${node.kind}`;
  const tags: MlflowTag[] = [
    { key: `${stage}.key`, value: node.key },
    { key: `${stage}.state`, value: outcome.state },
  ];
  const metrics: MlflowMetric[] = [];
  if (outcome.state === 'done' || outcome.state === 'cached') {
    for (const [name, value] of Object.entries(outcome.summary.metrics ?? {})) {
      if (!Number.isFinite(value)) continue;
      const key = options.metricKey(name);
      if (options.alreadyLogged(key, 0)) continue;
      metrics.push({ key, value, timestamp: now, step: 0 });
    }
    for (const [name, value] of Object.entries(outcome.summary.tags ?? {})) {
      tags.push({
        key: `${stage}.${name}`,
        value: truncateValue(value, MLFLOW_LIMITS.tagValueChars),
      });
    }
  }
  const durationKey = `duration_s/${node.kind}`;
  if (outcome.state !== 'skipped' && !options.alreadyLogged(durationKey, 0)) {
    // For a cached node this is the duration of the run that produced it (kept in the store).
    const seconds = outcome.durationMs / 1000;
    metrics.push({ key: durationKey, value: seconds, timestamp: now, step: 0 });
  }
  if (outcome.state === 'failed') {
    tags.push({
      key: `${stage}.failure`,
      value: truncateValue(`${outcome.reason}: ${outcome.message}`, MLFLOW_LIMITS.tagValueChars),
    });
  }
  if (outcome.state === 'skipped') tags.push({ key: `${stage}.skipped`, value: outcome.reason });
  return { metrics, tags };
}
