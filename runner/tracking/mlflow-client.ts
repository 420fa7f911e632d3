import { fail, ok, type Result } from '../result.ts';
import { type AttemptVerdict, type RetryPolicy, retrying } from '../retry-policy.ts';
import { chunkLogBatch, type LogBatchChunk } from './mlflow-limits.ts';
import type {
  MlflowDatasetInput,
  MlflowExperiment,
  MlflowFileInfo,
  MlflowMetric,
  MlflowRun,
  MlflowRunStatus,
  MlflowTag,
} from './mlflow-types.ts';

/**
 * A small typed client for MLflow's REST 2.0 API, written because no maintained JavaScript
 * client exists. Every call returns a `Result`: a 4xx is `rejected` with MLflow's error code
 * (the request is wrong and resending it cannot help), while connection errors, timeouts,
 * 429 and 5xx are retried (MLFLOW_RETRY) and end as `unreachable` / `server-error`.
 */
export interface MlflowClientOptions {
  /** Base URL of the tracking server, e.g. `http://127.0.0.1:5000`. */
  url: string;
  /** Bearer token (MLFLOW_TRACKING_TOKEN) or basic credentials (USERNAME/PASSWORD). */
  auth?: { token: string } | { username: string; password: string };
  /** Per request. */
  timeoutMs?: number;
  /** Overrides MLFLOW_RETRY (tests shorten the waits). */
  retry?: Partial<RetryPolicy>;
}

/**
 * Four attempts, 250 ms doubling between them: the journal keeps what still fails, so a
 * request need not wait long. Jittered, because every run on a machine shares the server.
 */
export const MLFLOW_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  jitter: 'full',
};

export type MlflowError =
  | { reason: 'rejected'; status: number; errorCode: string; message: string }
  | { reason: 'server-error'; status: number; message: string }
  | { reason: 'unreachable'; message: string; sent: boolean }
  | { reason: 'bad-response'; message: string };

export type MlflowResult<T> = Result<T, MlflowError>;

interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array;
  /**
   * A non-idempotent request (a metric append) is retried only when it certainly never reached
   * the server (connection refused); anything else is left to the journal, which dedupes.
   */
  idempotent: boolean;
}

export class MlflowClient {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;

  constructor(options: MlflowClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#headers = authHeaders(options.auth);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retry = { ...MLFLOW_RETRY, ...options.retry };
  }

  async health(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health`, {
        headers: this.#headers,
        signal: AbortSignal.timeout(2_000),
      });
      return response.ok;
    } catch {
      return false;
    }
  }

  async getExperimentByName(name: string): Promise<MlflowResult<MlflowExperiment | undefined>> {
    const res = await this.#request<{ experiment: MlflowExperiment }>({
      method: 'GET',
      path: '/api/2.0/mlflow/experiments/get-by-name',
      query: { experiment_name: name },
      idempotent: true,
    });
    if (!res.ok) {
      if (res.error.reason === 'rejected' && res.error.errorCode === 'RESOURCE_DOES_NOT_EXIST') {
        return ok(undefined);
      }
      return res;
    }
    return ok(res.value.experiment);
  }

  async createExperiment(name: string, tags: MlflowTag[] = []): Promise<MlflowResult<string>> {
    const res = await this.#request<{ experiment_id: string }>({
      method: 'POST',
      path: '/api/2.0/mlflow/experiments/create',
      json: { name, tags },
      idempotent: true,
    });
    return res.ok ? ok(res.value.experiment_id) : res;
  }

  async setExperimentTag(experimentId: string, tag: MlflowTag): Promise<MlflowResult<void>> {
    const res = await this.#request<unknown>({
      method: 'POST',
      path: '/api/2.0/mlflow/experiments/set-experiment-tag',
      json: { experiment_id: experimentId, key: tag.key, value: tag.value },
      idempotent: true,
    });
    return res.ok ? ok(undefined) : res;
  }

  /**
   * The experiment's id, creating it with `tags` when absent (and surviving a concurrent
   * creator); an existing experiment that lacks one of `tags`, or holds another value, gets it set.
   */
  async ensureExperiment(name: string, tags: MlflowTag[] = []): Promise<MlflowResult<string>> {
    const found = await this.getExperimentByName(name);
    if (!found.ok) return found;
    if (!found.value) {
      const created = await this.createExperiment(name, tags);
      if (!created.ok && created.error.reason === 'rejected') {
        if (created.error.errorCode === 'RESOURCE_ALREADY_EXISTS') {
          const again = await this.getExperimentByName(name);
          if (again.ok && again.value) return this.#withTags(again.value, tags);
        }
      }
      return created;
    }
    if (found.value.lifecycle_stage !== 'active') {
      const restored = await this.#request<unknown>({
        method: 'POST',
        path: '/api/2.0/mlflow/experiments/restore',
        json: { experiment_id: found.value.experiment_id },
        idempotent: true,
      });
      if (!restored.ok) return restored;
    }
    return this.#withTags(found.value, tags);
  }

  async #withTags(experiment: MlflowExperiment, tags: MlflowTag[]): Promise<MlflowResult<string>> {
    const held = new Map((experiment.tags ?? []).map((tag) => [tag.key, tag.value]));
    for (const tag of tags) {
      if (held.get(tag.key) === tag.value) continue;
      const set = await this.setExperimentTag(experiment.experiment_id, tag);
      if (!set.ok) return set;
    }
    return ok(experiment.experiment_id);
  }

  /**
   * A registered model of the Model Registry (`registered-models/create`); one that exists
   * already is fine, since versions are what `export --register` adds.
   */
  async ensureRegisteredModel(
    name: string,
    tags: MlflowTag[] = [],
    description = '',
  ): Promise<MlflowResult<void>> {
    const res = await this.#request<unknown>({
      method: 'POST',
      path: '/api/2.0/mlflow/registered-models/create',
      json: { name, tags, description },
      idempotent: true,
    });
    if (res.ok) return ok(undefined);
    const exists =
      res.error.reason === 'rejected' && res.error.errorCode === 'RESOURCE_ALREADY_EXISTS';
    return exists ? ok(undefined) : res;
  }

  /** A new version of a registered model pointing at `source` (`model-versions/create`). */
  async createModelVersion(request: {
    name: string;
    source: string;
    runId?: string;
    tags?: MlflowTag[];
    description?: string;
  }): Promise<MlflowResult<{ name: string; version: string; source: string }>> {
    const res = await this.#request<{
      model_version: { name: string; version: string; source: string };
    }>({
      method: 'POST',
      path: '/api/2.0/mlflow/model-versions/create',
      json: {
        name: request.name,
        source: request.source,
        run_id: request.runId,
        tags: request.tags ?? [],
        description: request.description,
      },
      // Each call adds a version: never resent unless it certainly did not arrive.
      idempotent: false,
    });
    return res.ok ? ok(res.value.model_version) : res;
  }

  async createRun(request: {
    experimentId: string;
    runName?: string;
    startTime?: number;
    userId?: string;
    tags?: MlflowTag[];
  }): Promise<MlflowResult<MlflowRun>> {
    const res = await this.#request<{ run: MlflowRun }>({
      method: 'POST',
      path: '/api/2.0/mlflow/runs/create',
      json: {
        experiment_id: request.experimentId,
        run_name: request.runName,
        start_time: request.startTime,
        user_id: request.userId,
        tags: request.tags ?? [],
      },
      idempotent: false,
    });
    return res.ok ? ok(res.value.run) : res;
  }

  async updateRun(request: {
    runId: string;
    status?: MlflowRunStatus;
    endTime?: number;
    runName?: string;
  }): Promise<MlflowResult<void>> {
    const res = await this.#request<unknown>({
      method: 'POST',
      path: '/api/2.0/mlflow/runs/update',
      json: {
        run_id: request.runId,
        status: request.status,
        end_time: request.endTime,
        run_name: request.runName,
      },
      idempotent: true,
    });
    return res.ok ? ok(undefined) : res;
  }

  async getRun(runId: string): Promise<MlflowResult<MlflowRun>> {
    const res = await this.#request<{ run: MlflowRun }>({
      method: 'GET',
      path: '/api/2.0/mlflow/runs/get',
      query: { run_id: runId },
      idempotent: true,
    });
    return res.ok ? ok(res.value.run) : res;
  }

  /** All runs matching the filter (pages followed), active and deleted alike unless asked. */
  async searchRuns(request: {
    experimentIds: string[];
    filter?: string;
    orderBy?: string[];
    runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  }): Promise<MlflowResult<MlflowRun[]>> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.#request<{ runs?: MlflowRun[]; next_page_token?: string }>({
        method: 'POST',
        path: '/api/2.0/mlflow/runs/search',
        json: {
          experiment_ids: request.experimentIds,
          filter: request.filter ?? '',
          order_by: request.orderBy ?? [],
          run_view_type: request.runViewType ?? 'ACTIVE_ONLY',
          max_results: 1000,
          page_token: pageToken,
        },
        idempotent: true,
      });
      if (!res.ok) return res;
      runs.push(...(res.value.runs ?? []));
      pageToken = res.value.next_page_token || undefined;
    } while (pageToken);
    return ok(runs);
  }

  /** Sends one logical batch as as many requests as MLflow's limits require. */
  async logBatch(runId: string, batch: LogBatchChunk): Promise<MlflowResult<void>> {
    for (const chunk of chunkLogBatch(batch)) {
      const res = await this.#request<unknown>({
        method: 'POST',
        path: '/api/2.0/mlflow/runs/log-batch',
        json: { run_id: runId, ...chunk },
        idempotent: chunk.metrics.length === 0,
      });
      if (!res.ok) return res;
    }
    return ok(undefined);
  }

  async logInputs(runId: string, datasets: MlflowDatasetInput[]): Promise<MlflowResult<void>> {
    const res = await this.#request<unknown>({
      method: 'POST',
      path: '/api/2.0/mlflow/runs/log-inputs',
      json: { run_id: runId, datasets },
      // The SQL store dedupes inputs by dataset name and digest, so a resend is harmless.
      idempotent: true,
    });
    return res.ok ? ok(undefined) : res;
  }

  async getMetricHistory(runId: string, key: string): Promise<MlflowResult<MlflowMetric[]>> {
    const metrics: MlflowMetric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.#request<{ metrics?: MlflowMetric[]; next_page_token?: string }>({
        method: 'GET',
        path: '/api/2.0/mlflow/metrics/get-history',
        query: { run_id: runId, metric_key: key, max_results: 25_000, page_token: pageToken },
        idempotent: true,
      });
      if (!res.ok) return res;
      for (const m of res.value.metrics ?? []) {
        metrics.push({
          key: m.key,
          value: Number(m.value),
          timestamp: Number(m.timestamp),
          step: Number(m.step ?? 0),
        });
      }
      pageToken = res.value.next_page_token || undefined;
    } while (pageToken);
    return ok(metrics);
  }

  /**
   * Uploads one file through the server's artifact proxy. `artifactUri` is the run's
   * `info.artifact_uri`; only `mlflow-artifacts:` roots are served over REST (a server started
   * with `--serve-artifacts`), so any other root is refused as `rejected`.
   */
  async uploadArtifact(
    artifactUri: string,
    artifactPath: string,
    body: Uint8Array,
  ): Promise<MlflowResult<void>> {
    const root = proxiedArtifactRoot(artifactUri);
    if (root === undefined) {
      return fail({
        reason: 'rejected',
        status: 0,
        errorCode: 'ARTIFACTS_NOT_PROXIED',
        message: `run artifact root ${artifactUri} is not served by the tracking server`,
      });
    }
    const res = await this.#request<unknown>({
      method: 'PUT',
      path: `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${artifactPath}`)}`,
      body,
      idempotent: true,
    });
    return res.ok ? ok(undefined) : res;
  }

  async listArtifacts(artifactUri: string, path = ''): Promise<MlflowResult<MlflowFileInfo[]>> {
    const root = proxiedArtifactRoot(artifactUri);
    if (root === undefined) {
      return fail({ reason: 'bad-response', message: `not a proxied root: ${artifactUri}` });
    }
    const res = await this.#request<{ files?: MlflowFileInfo[] }>({
      method: 'GET',
      path: '/api/2.0/mlflow-artifacts/artifacts',
      query: { path: path ? `${root}/${path}` : root },
      idempotent: true,
    });
    return res.ok ? ok(res.value.files ?? []) : res;
  }

  async downloadArtifact(artifactUri: string, path: string): Promise<MlflowResult<Uint8Array>> {
    const root = proxiedArtifactRoot(artifactUri);
    if (root === undefined) {
      return fail({ reason: 'bad-response', message: `not a proxied root: ${artifactUri}` });
    }
    return this.#send({
      method: 'GET',
      path: `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${path}`)}`,
      idempotent: true,
    });
  }

  async #request<T>(options: RequestOptions): Promise<MlflowResult<T>> {
    const raw = await this.#send(options);
    if (!raw.ok) return raw;
    const text = new TextDecoder().decode(raw.value);
    if (text.trim() === '') return ok({} as T);
    try {
      return ok(JSON.parse(text) as T);
    } catch {
      return fail({ reason: 'bad-response', message: `not JSON: ${text.slice(0, 200)}` });
    }
  }

  async #send(options: RequestOptions): Promise<MlflowResult<Uint8Array>> {
    const url = new URL(this.url + options.path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { ...this.#headers };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = options.body;
    }
    const once = async (): Promise<AttemptVerdict<MlflowResult<Uint8Array>, MlflowError>> => {
      try {
        const response = await fetch(url, {
          method: options.method,
          headers,
          body,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (response.ok) return { verdict: 'final', value: ok(bytes) };
        const detail = parseError(bytes);
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          const rejected = {
            reason: 'rejected',
            status: response.status,
            errorCode: detail.errorCode,
            message: detail.message,
          } as const;
          return { verdict: 'final', value: fail(rejected) };
        }
        const error: MlflowError = {
          reason: 'server-error',
          status: response.status,
          message: detail.message,
        };
        return options.idempotent
          ? { verdict: 'retry', value: error }
          : { verdict: 'final', value: fail(error) };
      } catch (error) {
        const refused = connectionRefused(error);
        const unreachable: MlflowError = {
          reason: 'unreachable',
          message: `${options.method} ${options.path}: ${describe(error)}`,
          sent: !refused,
        };
        return options.idempotent || refused
          ? { verdict: 'retry', value: unreachable }
          : { verdict: 'final', value: fail(unreachable) };
      }
    };
    const outcome = await retrying(this.#retry, once);
    if (outcome.kind === 'final') return outcome.value;
    if (outcome.kind === 'exhausted') return fail(outcome.value);
    // No signal is given, so nothing cancels; the type still asks.
    return fail({ reason: 'unreachable', message: 'cancelled', sent: false });
  }
}

/** `mlflow-artifacts:/1/<run>/artifacts` or `mlflow-artifacts://host:port/1/...` -> `1/<run>/...`. */
export function proxiedArtifactRoot(artifactUri: string): string | undefined {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  return match ? (match[1] ?? '').replace(/\/+$/, '') : undefined;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function authHeaders(auth: MlflowClientOptions['auth']): Record<string, string> {
  if (!auth) return {};
  if ('token' in auth) return { authorization: `Bearer ${auth.token}` };
  const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  return { authorization: `Basic ${basic}` };
}

function parseError(bytes: Uint8Array): { errorCode: string; message: string } {
  const text = new TextDecoder().decode(bytes);
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string };
    return { errorCode: body.error_code ?? 'UNKNOWN', message: body.message ?? text };
  } catch {
    return { errorCode: 'UNKNOWN', message: text.slice(0, 500) };
  }
}

function connectionRefused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code} ${cause.message ?? ''}`.trim();
  return error instanceof Error ? error.message : String(error);
}
