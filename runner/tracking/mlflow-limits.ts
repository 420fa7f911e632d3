import type { MlflowMetric, MlflowParam, MlflowTag } from './mlflow-types.ts';

/**
 * MLflow's server-side limits (mlflow/utils/validation.py in 3.17.2). A request over any of them
 * is refused as a whole with INVALID_PARAMETER_VALUE, so the client splits before sending.
 */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  /** Bytes of the JSON request body of one log-batch. */
  batchRequestBytes: 1_000_000,
  paramValueChars: 6000,
  tagValueChars: 8000,
  keyChars: 250,
  datasetDigestChars: 36,
  inputTagValueChars: 500,
} as const;

/** Room left under the 1 MB limit for the run id and JSON framing. */
const BATCH_BYTES_BUDGET = MLFLOW_LIMITS.batchRequestBytes - 2_000;

/**
 * Maps any key onto one MLflow accepts: only `[A-Za-z0-9_\-. /]` (colons are refused on Windows
 * servers, so they go too), at most 250 characters, and a path that does not normalise to
 * another name (no `//`, `./`, `..` segments, leading or trailing `/`).
 */
export function sanitizeKey(key: string): string {
  const chars = key.replace(/[^\w\-. /]/g, '_');
  const segments = chars
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .map((segment) => (segment === '..' ? '__' : segment));
  const joined = segments.join('/') || '_';
  return joined.slice(0, MLFLOW_LIMITS.keyChars).replace(/\/+$/, '') || '_';
}

export function truncateValue(value: string, limit: number): string {
  if (value.length <= limit) return value;
  const marker = '...[truncated]';
  return value.slice(0, limit - marker.length) + marker;
}

export interface LogBatchChunk {
  metrics: MlflowMetric[];
  params: MlflowParam[];
  tags: MlflowTag[];
}

/**
 * Splits one logical batch into requests that each stay within every count and size limit.
 * Keys are sanitised and values truncated here, so nothing downstream can send an invalid one.
 */
export function chunkLogBatch(batch: LogBatchChunk): LogBatchChunk[] {
  const chunks: LogBatchChunk[] = [];
  let current: LogBatchChunk = { metrics: [], params: [], tags: [] };
  let bytes = 0;
  const push = (
    kind: 'metrics' | 'params' | 'tags',
    item: MlflowMetric | MlflowParam | MlflowTag,
    limit: number,
  ) => {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    const count = current.metrics.length + current.params.length + current.tags.length;
    if (
      current[kind].length >= limit ||
      count >= MLFLOW_LIMITS.entitiesPerBatch ||
      bytes + size > BATCH_BYTES_BUDGET
    ) {
      chunks.push(current);
      current = { metrics: [], params: [], tags: [] };
      bytes = 0;
    }
    (current[kind] as (typeof item)[]).push(item);
    bytes += size;
  };
  for (const p of batch.params) {
    push(
      'params',
      { key: sanitizeKey(p.key), value: truncateValue(p.value, MLFLOW_LIMITS.paramValueChars) },
      MLFLOW_LIMITS.paramsPerBatch,
    );
  }
  for (const t of batch.tags) {
    push(
      'tags',
      { key: sanitizeKey(t.key), value: truncateValue(t.value, MLFLOW_LIMITS.tagValueChars) },
      MLFLOW_LIMITS.tagsPerBatch,
    );
  }
  for (const m of batch.metrics) {
    push('metrics', { ...m, key: sanitizeKey(m.key) }, MLFLOW_LIMITS.metricsPerBatch);
  }
  if (current.metrics.length + current.params.length + current.tags.length > 0) {
    chunks.push(current);
  }
  return chunks;
}
