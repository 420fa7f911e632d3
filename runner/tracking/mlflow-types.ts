/** The subset of MLflow's REST 2.0 entities that dermatune sends and reads back. */

export interface MlflowMetric {
  key: string;
  value: number;
  /** Milliseconds since the epoch, integer. */
  timestamp: number;
  step: number;
}

export interface MlflowParam {
  key: string;
  value: string;
}

export interface MlflowTag {
  key: string;
  value: string;
}

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: MlflowRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface MlflowDataset {
  name: string;
  digest: string;
  source_type: string;
  /** JSON text describing where the data lives. */
  source: string;
  schema?: string;
  profile?: string;
}

export interface MlflowDatasetInput {
  tags?: MlflowTag[];
  dataset: MlflowDataset;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] };
  inputs?: { dataset_inputs?: MlflowDatasetInput[] };
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
  tags?: MlflowTag[];
}

export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}
