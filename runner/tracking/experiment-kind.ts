import type { MlflowTag } from './mlflow-types.ts';

/**
 * The tags every experiment dermatune logs to carries. MLflow 3's UI reads the experiment tag
 * `mlflow.experimentKind` to choose an experiment's view: `genai_development` (and an experiment
 * with no kind, which the UI infers as GenAI) opens the traces and sessions view, which shows
 * nothing of training runs; `custom_model_development` opens the model-training view with the
 * runs table, their parameters and metrics. Values from MLflow's UI source (the ExperimentKind
 * enum: genai_development, custom_model_development, finetuning, ...).
 */
export const EXPERIMENT_KIND_TAG: MlflowTag = {
  key: 'mlflow.experimentKind',
  value: 'custom_model_development',
};

export const EXPERIMENT_TAGS: readonly MlflowTag[] = [EXPERIMENT_KIND_TAG];

/**
 * MLflow 3.17's UI no longer chooses the view from the tag alone: a switch in its sidebar (kept in
 * the browser, `genai` by default) decides, and the address's `workflowType` sets it. Links
 * dermatune prints therefore name the model-training view (`machine_learning`) themselves.
 */
export function modelTrainingViewUrl(serverUrl: string, experimentId?: string): string {
  const page = experimentId === undefined ? 'experiments' : `experiments/${experimentId}/runs`;
  return `${serverUrl.replace(/\/+$/, '')}/#/${page}?workflowType=machine_learning`;
}
