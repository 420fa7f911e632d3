import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { fail, ok, type Result } from '../../result.ts';
import { type AttemptVerdict, type RetryPolicy, retrying } from '../../retry-policy.ts';

/**
 * A typed client for Ray's Jobs REST API (the dashboard's `/api/jobs/`, `/api/packages/` and
 * the state API's node list), written by hand because Ray ships no JavaScript client. Every
 * call returns a `Result`: a 4xx is `rejected` (resending cannot help), connection errors and
 * 5xx are retried (RAY_REQUEST_RETRY) and end as `unreachable` / `server-error`. Every call is safe to
 * repeat; a submission is too, under its unique id (see `submit`).
 */
export interface RayJobsClientOptions {
  /** The dashboard's HTTP address, e.g. `http://127.0.0.1:8265`. */
  address: string;
  /** Extra headers for an authenticating proxy (Ray's CLI takes them from RAY_JOB_HEADERS). */
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Overrides RAY_REQUEST_RETRY (a probe of a head that may not be up asks for one attempt). */
  retry?: Partial<RetryPolicy>;
}

/** One request: four attempts, 500 ms doubling. One runner is the only caller: no jitter. */
export const RAY_REQUEST_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 'none',
};

/**
 * A submission, one request per round: six rounds, 1 s doubling, about half a minute in all,
 * the time a fresh head takes to have an agent ("No available agent to submit job").
 */
export const RAY_SUBMIT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 16_000,
  jitter: 'none',
};

export type RayError =
  | { reason: 'rejected'; status: number; message: string }
  | { reason: 'not-found'; message: string }
  | { reason: 'server-error'; status: number; message: string }
  | { reason: 'unreachable'; message: string }
  | { reason: 'bad-response'; message: string };

export type RayResult<T> = Result<T, RayError>;

export type RayJobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';

export const TERMINAL_STATUSES: ReadonlySet<RayJobStatus> = new Set([
  'STOPPED',
  'SUCCEEDED',
  'FAILED',
]);

/** The fields of Ray's `JobDetails` that dermatune reads. */
export interface RayJobDetails {
  submission_id: string;
  status: RayJobStatus;
  entrypoint: string;
  message?: string | null;
  error_type?: string | null;
  metadata?: Record<string, string> | null;
  start_time?: number | null;
  end_time?: number | null;
  driver_exit_code?: number | null;
  driver_node_id?: string | null;
}

/** What `POST /api/jobs/` takes; field names are Ray's. */
export interface RayJobSubmission {
  entrypoint: string;
  submission_id: string;
  runtime_env?: Record<string, unknown>;
  metadata?: Record<string, string>;
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  entrypoint_memory?: number;
  entrypoint_resources?: Record<string, number>;
}

export interface RayNode {
  node_id: string;
  node_ip: string;
  state: 'ALIVE' | 'DEAD' | string;
  is_head_node: boolean;
  resources_total: Record<string, number>;
}

export interface RayVersion {
  version: string;
  ray_version: string;
}

interface Request {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  json?: unknown;
  body?: Uint8Array;
  /** Tries at most; defaults to the client's policy. */
  attempts?: number;
}

export class RayJobsClient {
  readonly address: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;

  constructor(options: RayJobsClientOptions) {
    this.address = options.address.replace(/\/+$/, '');
    this.#headers = options.headers ?? {};
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retry = { ...RAY_REQUEST_RETRY, ...options.retry };
  }

  version(): Promise<RayResult<RayVersion>> {
    return this.#json('GET /api/version', {
      method: 'GET',
      path: '/api/version',
    });
  }

  /** Every node the cluster knows, with its total resources (the state API). */
  async nodes(): Promise<RayResult<RayNode[]>> {
    const response = await this.#json<{ data?: { result?: { result?: RayNode[] } } }>(
      'list nodes',
      { method: 'GET', path: '/api/v0/nodes?detail=1&limit=10000' },
    );
    if (!response.ok) return response;
    const nodes = response.value.data?.result?.result;
    if (!Array.isArray(nodes)) return fail({ reason: 'bad-response', message: 'no node list' });
    return ok(nodes);
  }

  /** Whether a runtime-env package (`gcs://_ray_pkg_<hash>.zip`) is already on the cluster. */
  async hasPackage(uri: string): Promise<RayResult<boolean>> {
    const response = await this.#send({
      method: 'GET',
      path: packagePath(uri),
    });
    if (!response.ok) return response.error.reason === 'not-found' ? ok(false) : response;
    return ok(true);
  }

  async uploadPackage(uri: string, zip: Uint8Array): Promise<RayResult<void>> {
    const response = await this.#send({
      method: 'PUT',
      path: packagePath(uri),
      body: zip,
    });
    return response.ok ? ok(undefined) : response;
  }

  /**
   * Submits under the caller's unique submission id, which makes a resend safe: if an earlier
   * attempt did reach the cluster, Ray answers that the id exists and the job is ours. So
   * connection failures and 5xx (Ray says "No available agent to submit job, please try again
   * later" while a fresh head starts) are retried for up to about half a minute.
   */
  async submit(job: RayJobSubmission): Promise<RayResult<string>> {
    const round = async (
      attempt: number,
    ): Promise<AttemptVerdict<RayResult<string>, RayResult<string>>> => {
      // One try per round: a retry inside this call could meet "already exists" unnoticed.
      const response = await this.#json<{ submission_id?: string }>('submit job', {
        method: 'POST',
        path: '/api/jobs/',
        json: job,
        attempts: 1,
      });
      if (response.ok) {
        return { verdict: 'final', value: ok(response.value.submission_id ?? job.submission_id) };
      }
      if (response.error.reason === 'rejected' && /already exists/i.test(response.error.message)) {
        return { verdict: 'final', value: attempt > 1 ? ok(job.submission_id) : response };
      }
      const transient =
        response.error.reason === 'server-error' || response.error.reason === 'unreachable';
      return { verdict: transient ? 'retry' : 'final', value: response };
    };
    const outcome = await retrying(RAY_SUBMIT_RETRY, round);
    // No signal is given, so nothing cancels; the type still asks.
    return outcome.kind === 'cancelled'
      ? fail({ reason: 'unreachable', message: 'cancelled' })
      : outcome.value;
  }

  job(id: string): Promise<RayResult<RayJobDetails>> {
    return this.#json(`get job ${id}`, {
      method: 'GET',
      path: `/api/jobs/${encodeURIComponent(id)}`,
    });
  }

  list(): Promise<RayResult<RayJobDetails[]>> {
    return this.#json('list jobs', { method: 'GET', path: '/api/jobs/' });
  }

  async stop(id: string): Promise<RayResult<boolean>> {
    const response = await this.#json<{ stopped?: boolean }>(`stop job ${id}`, {
      method: 'POST',
      path: `/api/jobs/${encodeURIComponent(id)}/stop`,
    });
    return response.ok ? ok(response.value.stopped === true) : response;
  }

  /** The job's whole log so far (its entrypoint's stdout and stderr, merged by Ray). */
  async logs(id: string): Promise<RayResult<string>> {
    const response = await this.#json<{ logs?: string }>(`logs of job ${id}`, {
      method: 'GET',
      path: `/api/jobs/${encodeURIComponent(id)}/logs`,
    });
    return response.ok ? ok(response.value.logs ?? '') : response;
  }

  /**
   * Follows the job's log through the dashboard's websocket tail: `onText` gets each chunk as
   * it is written; the promise settles when Ray closes the socket (the job ended) or `signal`
   * aborts. Each connection streams the log from its start.
   *
   * Through the `ws` package with compression off: Ray's dashboard proxies this socket to its
   * job module, and a client that negotiates permessage-deflate (Node's built-in WebSocket
   * always does) gets the socket closed at once with no message.
   */
  tail(id: string, onText: (text: string) => void, signal?: AbortSignal): Promise<RayResult<void>> {
    const url = `${this.address.replace(/^http/, 'ws')}/api/jobs/${encodeURIComponent(id)}/logs/tail`;
    return new Promise((resolve) => {
      let settled = false;
      const socket = new WebSocket(url, { perMessageDeflate: false, headers: this.#headers });
      const settle = (result: RayResult<void>) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = () => {
        socket.terminate();
        settle(ok(undefined));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) onText(data.toString('utf8'));
      });
      socket.on('close', () => settle(ok(undefined)));
      socket.on('error', (error) =>
        settle(fail({ reason: 'unreachable', message: `log tail of ${id}: ${error.message}` })),
      );
    });
  }

  async #json<T>(what: string, request: Request): Promise<RayResult<T>> {
    const response = await this.#send(request);
    if (!response.ok) return response;
    try {
      return ok(JSON.parse(response.value) as T);
    } catch {
      return fail({
        reason: 'bad-response',
        message: `${what}: the Ray dashboard answered with something that is not JSON`,
      });
    }
  }

  async #send(request: Request): Promise<RayResult<string>> {
    const once = async (): Promise<AttemptVerdict<RayResult<string>, RayError>> => {
      const response = await this.#exchange(request);
      if (!response.ok) {
        const message = `cannot reach the Ray dashboard at ${this.address} (${response.error.code})`;
        return { verdict: 'retry', value: { reason: 'unreachable', message } };
      }
      const { status, text } = response.value;
      if (status >= 200 && status < 300) return { verdict: 'final', value: ok(text) };
      const message = `${request.method} ${request.path}: ${status} ${firstLine(text)}`;
      if (status === 404)
        return { verdict: 'final', value: fail({ reason: 'not-found', message }) };
      if (status < 500) {
        return { verdict: 'final', value: fail({ reason: 'rejected', status, message }) };
      }
      return { verdict: 'retry', value: { reason: 'server-error', status, message } };
    };
    const policy = { ...this.#retry, maxAttempts: request.attempts ?? this.#retry.maxAttempts };
    const outcome = await retrying(policy, once);
    if (outcome.kind === 'final') return outcome.value;
    if (outcome.kind === 'exhausted') return fail(outcome.value);
    // No signal is given, so nothing cancels; the type still asks.
    return fail({ reason: 'unreachable', message: 'cancelled' });
  }

  /**
   * One HTTP exchange through `node:http`, not `fetch`: fetch always sends `Sec-Fetch-Mode`,
   * which Ray's dashboard takes for a browser and answers with 405 on every PUT and POST.
   */
  #exchange(request: Request): Promise<Result<{ status: number; text: string }, { code: string }>> {
    const url = new URL(`${this.address}${request.path}`);
    const body =
      request.json !== undefined ? Buffer.from(JSON.stringify(request.json)) : request.body;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(
        url,
        {
          method: request.method,
          headers: {
            ...this.#headers,
            ...(request.json !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(body !== undefined ? { 'content-length': String(body.byteLength) } : {}),
          },
          timeout: this.#timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve(
              ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
            ),
          );
          res.on('error', (error: NodeJS.ErrnoException) =>
            resolve(fail({ code: error.code ?? error.message })),
          );
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        resolve(fail({ code: error.code ?? error.message })),
      );
      req.end(body);
    });
  }
}

/** `gcs://_ray_pkg_x.zip` → `/api/packages/gcs/_ray_pkg_x.zip`, as Ray's SDK addresses it. */
function packagePath(uri: string): string {
  const match = /^([a-z0-9]+):\/\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not a package URI: ${uri}`);
  return `/api/packages/${match[1]}/${match[2]}`;
}

function firstLine(text: string): string {
  // Ray puts Python tracebacks in error bodies; the last line names the error.
  const lines = text.trim().split('\n');
  return (lines.at(-1) ?? '').slice(0, 500);
}
