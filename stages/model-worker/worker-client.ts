import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensurePythonEnv } from '../../runner/python-env.ts';
import { fail, ok, type Result, unreachable } from '../../runner/result.ts';
import type { StageFailure } from '../../runner/stage-kind.ts';
import { forkServerFor } from './fork-server.ts';
import type { WorkerDone, WorkerErrorKind, WorkerEvent, WorkerJob } from './worker-job.ts';

/**
 * Drives the Python model worker: spawns it with the project venv's interpreter, hands it one
 * job on stdin, parses its JSON-line events, keeps its stderr (library chatter, tracebacks) in
 * a log file, and turns its error event into a `Result` failure. Aborting the signal sends
 * SIGTERM, which the worker answers with a `cancelled` error event; SIGKILL follows after a
 * grace period for a worker stuck in native code.
 */

/** The folder of the Python package; also its PYTHONPATH. */
export const WORKER_DIR = dirname(fileURLToPath(import.meta.url));
export const WORKER_REQUIREMENTS = join(WORKER_DIR, 'requirements.txt');

/** The job types that load a model, and so gain from the fork server's imports. */
const FORKED_JOBS: ReadonlySet<WorkerJob['type']> = new Set(['train', 'generate', 'examples']);

export interface WorkerFailure {
  reason:
    | WorkerErrorKind
    /** The worker died without an error event (killed, segfault, protocol broken). */
    | 'crashed'
    /** The Python environment could not be created or filled. */
    | 'no-python';
  message: string;
  /** Where stderr and tracebacks of this run are. */
  logFile: string;
}

export interface WorkerRunOptions {
  /** stderr of the worker is appended here; it holds any traceback. */
  logFile: string;
  onEvent?: (event: WorkerEvent) => void;
  signal?: AbortSignal;
  /** The interpreter; defaults to the project venv (created on first use). */
  python?: string;
  env?: Record<string, string>;
  /** Milliseconds between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

export async function ensureWorkerEnv(
  log?: (line: string) => void,
): Promise<Result<string, WorkerFailure & { reason: 'no-python' }>> {
  const env = await ensurePythonEnv([WORKER_REQUIREMENTS], log);
  if (!env.ok) {
    return fail({ reason: 'no-python', message: env.error.message, logFile: '' });
  }
  return ok(env.value.python);
}

export async function runWorker(
  job: WorkerJob,
  options: WorkerRunOptions,
): Promise<Result<WorkerDone, WorkerFailure>> {
  const { logFile } = options;
  if (options.signal?.aborted) {
    return fail({ reason: 'cancelled', message: 'cancelled before start', logFile });
  }
  let python = options.python;
  if (python === undefined) {
    const env = await ensureWorkerEnv();
    if (!env.ok) return fail({ ...env.error, logFile });
    python = env.value;
  }
  await mkdir(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const env = {
    ...process.env,
    ...options.env,
    PYTHONPATH: WORKER_DIR,
    PYTHONUNBUFFERED: '1',
    // The worker exits as soon as this process is gone (a runner killed with SIGKILL).
    DERMATUNE_PARENT_PID: String(process.pid),
  };
  // Heavy jobs start as a fork of a server that has imported torch and its kin already; the
  // doctor job, which must see a plain interpreter (and costs little), always starts on its own.
  const server = FORKED_JOBS.has(job.type)
    ? await forkServerFor(python, WORKER_DIR, env)
    : 'the doctor job starts on its own';
  // The server's first start takes seconds, long enough for an abort to come first.
  if (options.signal?.aborted) {
    log.end();
    return fail({ reason: 'cancelled', message: 'cancelled before start', logFile });
  }
  const started =
    typeof server === 'string'
      ? `started on its own (no fork server: ${server})`
      : `forked by the fork server (pid ${server.pid})`;
  log.write(`--- model worker: ${job.type} job, ${new Date().toISOString()}, ${started}\n`);

  const args =
    typeof server === 'string'
      ? ['-m', 'dermatune_worker', '-']
      : ['-m', 'dermatune_forkserver.launch', server.socket, '-'];
  const child = spawn(python, args, { cwd: WORKER_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(JSON.stringify(job));
  child.stderr.pipe(log, { end: false });

  let finalEvent: WorkerDone | Extract<WorkerEvent, { event: 'error' }> | undefined;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const event = parseEvent(line);
    if (event === undefined) {
      log.write(`[worker stdout, not an event] ${line}\n`);
      return;
    }
    if (event.event === 'done' || event.event === 'error') finalEvent = event;
    if (event.event === 'error') log.write(`[worker error] ${event.kind}: ${event.message}\n`);
    options.onEvent?.(event);
  });

  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 10_000);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: Error;
  }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    // 'close' waits for stdout to drain, so every event has been parsed by then.
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  options.signal?.removeEventListener('abort', onAbort);
  if (killTimer !== undefined) clearTimeout(killTimer);
  await new Promise<void>((resolve) => log.end(resolve));

  if (exit.error !== undefined) {
    return fail({
      reason: 'no-python',
      message: `cannot start ${python}: ${exit.error.message}`,
      logFile,
    });
  }
  if (finalEvent?.event === 'done' && exit.code === 0) return ok(finalEvent);
  if (finalEvent?.event === 'error') {
    return fail({ reason: finalEvent.kind, message: finalEvent.message, logFile });
  }
  if (options.signal?.aborted) {
    return fail({
      reason: 'cancelled',
      message: `worker stopped (${exit.signal ?? exit.code})`,
      logFile,
    });
  }
  return fail({
    reason: 'crashed',
    message: `the model worker ended without a result (exit ${exit.code ?? exit.signal}); see ${logFile}`,
    logFile,
  });
}

/**
 * The same run as an async iterator of events; `result` settles when the worker has ended.
 * For callers that prefer `for await` to a callback.
 */
export function streamWorker(
  job: WorkerJob,
  options: Omit<WorkerRunOptions, 'onEvent'>,
): { events: AsyncIterable<WorkerEvent>; result: Promise<Result<WorkerDone, WorkerFailure>> } {
  const queue: WorkerEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const result = runWorker(job, {
    ...options,
    onEvent: (event) => {
      queue.push(event);
      wake?.();
    },
  }).finally(() => {
    finished = true;
    wake?.();
  });
  const events: AsyncIterable<WorkerEvent> = {
    async *[Symbol.asyncIterator]() {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
  return { events, result };
}

/** The runner's failure reason for a worker failure. */
export function toStageFailure(failure: WorkerFailure): StageFailure {
  const message = `${failure.message} (worker log: ${failure.logFile})`;
  switch (failure.reason) {
    case 'model-not-found':
      return { reason: 'missing-model', message };
    case 'out-of-memory':
      return { reason: 'out-of-memory', message };
    case 'bad-image':
    case 'bad-job':
      return { reason: 'invalid-input', message };
    case 'cancelled':
      return { reason: 'cancelled', message };
    case 'internal':
    case 'crashed':
    case 'no-python':
      return { reason: 'worker-error', message };
    default:
      return unreachable(failure.reason);
  }
}

export function parseEvent(line: string): WorkerEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as { event?: unknown };
    return typeof value.event === 'string' ? (value as WorkerEvent) : undefined;
  } catch {
    return undefined;
  }
}
