import type {
  MlflowDatasetInput,
  MlflowMetric,
  MlflowParam,
  MlflowRunStatus,
  MlflowTag,
} from './mlflow-types.ts';

/**
 * One tracking call, written to the journal before it is sent. Runs are named by a `ref` that
 * the client generates, never by the server's run id, so an entry means the same thing whether
 * it is sent now, after an outage or by `dermatune sync` next week. The ref travels to MLflow as
 * the `dermatune.ref` tag, which lets a resend find a run whose creation was applied but whose
 * answer was lost.
 */
export type JournalOp =
  | {
      op: 'create-run';
      ref: string;
      experiment: string;
      runName: string;
      startTime: number;
      userId?: string;
      tags: MlflowTag[];
      /** The parent's ref; resolved to `mlflow.parentRunId` when sent. */
      parentRef?: string;
    }
  | {
      op: 'log-batch';
      ref: string;
      metrics: MlflowMetric[];
      params: MlflowParam[];
      tags: MlflowTag[];
    }
  | { op: 'log-inputs'; ref: string; datasets: MlflowDatasetInput[] }
  | {
      op: 'upload-artifact';
      ref: string;
      /** Absolute path of an immutable local file (a committed stage output or a tracking blob). */
      file: string;
      artifactPath: string;
    }
  | { op: 'update-run'; ref: string; status: MlflowRunStatus; endTime?: number };

export type JournalEntry = JournalOp & {
  /** Position in its segment, from 1; acks name entries by it. */
  seq: number;
  /** When the call was made (ms since the epoch). */
  at: number;
};

export type AckOutcome = 'sent' | 'rejected';

export interface JournalAck {
  seq: number;
  outcome: AckOutcome;
  /** Why MLflow refused it (or why it was withheld); rejected entries are never resent. */
  message?: string;
}
