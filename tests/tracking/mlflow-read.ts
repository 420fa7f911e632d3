/**
 * Reads MLflow back through its own REST API with plain fetch, independent of the client under
 * test, so a bug in that client cannot hide itself.
 */
export async function mlflowGet<T>(
  url: string,
  path: string,
  query: Record<string, string> = {},
): Promise<T> {
  const target = new URL(url + path);
  for (const [k, v] of Object.entries(query)) target.searchParams.set(k, v);
  const response = await fetch(target);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function mlflowPost<T>(url: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export interface ReadRun {
  info: {
    run_id: string;
    run_name: string;
    status: string;
    artifact_uri: string;
    experiment_id: string;
  };
  data: {
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
    metrics?: { key: string; value: number; step: number }[];
  };
  inputs?: {
    dataset_inputs?: {
      tags?: { key: string; value: string }[];
      dataset: { name: string; digest: string; source: string; profile?: string };
    }[];
  };
}

export async function experimentRuns(url: string, name: string): Promise<ReadRun[]> {
  const { experiment } = await mlflowGet<{ experiment: { experiment_id: string } }>(
    url,
    '/api/2.0/mlflow/experiments/get-by-name',
    { experiment_name: name },
  );
  const { runs } = await mlflowPost<{ runs?: ReadRun[] }>(url, '/api/2.0/mlflow/runs/search', {
    experiment_ids: [experiment.experiment_id],
    max_results: 1000,
  });
  return runs ?? [];
}

export function tag(run: ReadRun, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

export function params(run: ReadRun): Record<string, string> {
  return Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
}

export async function metricHistory(
  url: string,
  runId: string,
  key: string,
): Promise<{ step: number; value: number; timestamp: number }[]> {
  const body = await mlflowGet<{
    metrics?: { step?: string | number; value: number; timestamp: string | number }[];
  }>(url, '/api/2.0/mlflow/metrics/get-history', { run_id: runId, metric_key: key });
  return (body.metrics ?? [])
    .map((m) => ({
      step: Number(m.step ?? 0),
      value: Number(m.value),
      timestamp: Number(m.timestamp),
    }))
    .sort((a, b) => a.step - b.step);
}

/** Every artifact file of a run, by path, with its content, listed through `artifacts/list`. */
export async function runArtifacts(url: string, run: ReadRun): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
  const walk = async (path: string): Promise<void> => {
    const query: Record<string, string> = { run_id: run.info.run_id };
    if (path) query.path = path;
    const listed = await mlflowGet<{ files?: { path: string; is_dir: boolean }[] }>(
      url,
      '/api/2.0/mlflow/artifacts/list',
      query,
    );
    for (const file of listed.files ?? []) {
      if (file.is_dir) await walk(file.path);
      else {
        const response = await fetch(
          `${url}/api/2.0/mlflow-artifacts/artifacts/${root}/${file.path}`,
        );
        files.set(file.path, await response.text());
      }
    }
  };
  await walk('');
  return files;
}
