import type { AnyStageKind, StageDataset } from '../stage-kind.ts';

/**
 * What the MLflow observer needs of the pipeline's stage kinds, from their `tracking`
 * declarations: the metric prefix of each kind and the output files that are dataset inputs.
 * Tracking itself names no stage.
 */
export function kindTracking(kinds: readonly AnyStageKind[]): {
  metricPrefixes: Record<string, string>;
  datasetFiles: Record<string, readonly StageDataset[]>;
} {
  const metricPrefixes: Record<string, string> = {};
  const datasetFiles: Record<string, readonly StageDataset[]> = {};
  for (const kind of kinds) {
    if (kind.tracking?.metricPrefix !== undefined) {
      metricPrefixes[kind.name] = kind.tracking.metricPrefix;
    }
    if (kind.tracking?.datasets !== undefined) datasetFiles[kind.name] = kind.tracking.datasets;
  }
  return { metricPrefixes, datasetFiles };
}
