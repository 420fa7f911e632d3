import {
  describeRequestError,
  type PreflightCheck,
  type PreflightContext,
} from '../preflight-check.ts';
import { authHeaders, proxiedArtifactRoot } from './mlflow-client.ts';
import { resolveTrackingTarget } from './tracking-target.ts';

/** A tracking server answers in milliseconds; one that takes this long is as good as down. */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * Proves that runs can be logged before a sweep starts: the server answers with these
 * credentials, and artifacts go through it. dermatune uploads artifacts over the server's
 * proxy (`/api/2.0/mlflow-artifacts/...`), which a server started with `--no-serve-artifacts`
 * answers with 503, and which an experiment whose artifact location is not `mlflow-artifacts:`
 * bypasses; either way every upload would end as ARTIFACTS_NOT_PROXIED after the run.
 * Without MLFLOW_TRACKING_URI dermatune starts its own server, with proxying, on the store.
 */
export async function trackingPreflight(
  experimentName: string,
  storeDir: string,
  ctx: Pick<PreflightContext, 'env' | 'signal' | 'fetch'>,
): Promise<PreflightCheck[]> {
  const target = resolveTrackingTarget(storeDir, ctx.env);
  if (!target.ok) {
    return [
      {
        part: 'mlflow',
        subject: 'tracking server',
        outcome: 'failed',
        detail: target.error.message,
        setting: 'MLFLOW_TRACKING_URI',
      },
    ];
  }
  if (target.value.kind === 'embedded') {
    return [
      {
        part: 'mlflow',
        subject: 'tracking server',
        outcome: 'skipped',
        detail:
          'MLFLOW_TRACKING_URI is not set: dermatune starts its own MLflow server on the store',
      },
    ];
  }
  const { url, auth } = target.value;
  const subject = `tracking server ${url}`;
  const headers = authHeaders(auth);
  const get = (path: string) =>
    ctx.fetch(`${url}${path}`, {
      headers,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(CHECK_TIMEOUT_MS)]),
    });
  const failed = (
    detail: string,
    setting = 'MLFLOW_TRACKING_URI',
    warnOnly = false,
  ): PreflightCheck[] => [
    {
      part: 'mlflow',
      subject,
      outcome: 'failed',
      detail,
      setting,
      ...(warnOnly ? { warnOnly } : {}),
    },
  ];

  let experiment: { artifact_location?: string } | undefined;
  try {
    const response = await get(
      `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experimentName)}`,
    );
    const body = (await response.json().catch(() => ({}))) as {
      error_code?: string;
      message?: string;
      experiment?: { artifact_location?: string };
    };
    if (response.status === 401 || response.status === 403) {
      return failed(
        `HTTP ${response.status}: the server refuses these credentials`,
        auth && 'token' in auth ? 'MLFLOW_TRACKING_TOKEN' : 'MLFLOW_TRACKING_USERNAME',
      );
    }
    if (response.ok) experiment = body.experiment;
    else if (body.error_code !== 'RESOURCE_DOES_NOT_EXIST') {
      return failed(
        `HTTP ${response.status} ${body.error_code ?? ''}: ${body.message ?? 'not an MLflow server'}`.trim(),
      );
    }
  } catch (error: unknown) {
    // Down is not fatal to a run: the journal keeps every call until the server answers.
    return failed(
      `could not reach it: ${describeRequestError(error)}; a run journals its calls and sends them when it answers (dermatune sync)`,
      'MLFLOW_TRACKING_URI',
      true,
    );
  }

  if (experiment?.artifact_location && !proxiedArtifactRoot(experiment.artifact_location)) {
    return failed(
      `ARTIFACTS_NOT_PROXIED: experiment ${experimentName} keeps artifacts at ${experiment.artifact_location}, which the server does not proxy; dermatune can only upload through mlflow-artifacts: locations (use another spec name or an experiment created on a --serve-artifacts server)`,
    );
  }
  try {
    const response = await get('/api/2.0/mlflow-artifacts/artifacts?path=');
    if (response.status === 503) {
      return failed(
        'ARTIFACTS_NOT_PROXIED: the server runs with --no-serve-artifacts, so artifacts (predictions, adapters, Table 1) could not be uploaded; start it with --serve-artifacts',
      );
    }
    if (!response.ok) return failed(`artifact proxy answers HTTP ${response.status}`);
  } catch (error: unknown) {
    return failed(`artifact proxy: ${describeRequestError(error)}`);
  }
  return [
    {
      part: 'mlflow',
      subject,
      outcome: 'passed',
      detail: experiment
        ? `answers; experiment ${experimentName} exists and its artifacts are proxied`
        : `answers; artifacts are proxied; experiment ${experimentName} will be created`,
    },
  ];
}
