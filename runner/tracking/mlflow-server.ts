import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../project-root.ts';
import { ensurePythonEnv } from '../python-env.ts';
import { fail, ok, type Result } from '../result.ts';
import { sleep } from '../retry-policy.ts';

/**
 * The embedded MLflow server: the real `mlflow server` from the project venv, on a SQLite
 * database and a proxied artifact folder inside the store. Never the old `./mlruns` file store,
 * which MLflow 3.13+ refuses without an opt-in.
 */
export interface TrackingServer {
  url: string;
  pid: number;
  /** Ends the server and its workers; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface TrackingServerFailure {
  reason: 'python-env' | 'server-exited' | 'health-timeout' | 'aborted';
  message: string;
}

export const MLFLOW_REQUIREMENTS = join(projectRoot(), 'runner', 'tracking', 'requirements.txt');
const SERVER_GUARD = join(projectRoot(), 'runner', 'tracking', 'server_guard.py');
/** `mlflow server`, after creating the store's database so that no stop can leave it half made. */
const MLFLOW_SERVE = join(projectRoot(), 'runner', 'tracking', 'mlflow_serve.py');

export function trackingDir(storeDir: string): string {
  return join(storeDir, 'tracking');
}

export interface ServerLayout {
  databaseFile: string;
  backendStoreUri: string;
  artifactsDir: string;
  logFile: string;
}

export function serverLayout(storeDir: string): ServerLayout {
  const dir = trackingDir(storeDir);
  const databaseFile = join(dir, 'mlflow.db');
  return {
    databaseFile,
    backendStoreUri: `sqlite:///${databaseFile}`,
    artifactsDir: join(dir, 'artifacts'),
    logFile: join(dir, 'server.log'),
  };
}

export interface StartServerOptions {
  storeDir: string;
  /** Defaults to a free loopback port. */
  port?: number;
  host?: string;
  /** How long to wait for `/health`; a first start creates the database and is slow. */
  startTimeoutMs?: number;
  /** Gives up on a start still waiting for `/health` (a run that ended first). */
  signal?: AbortSignal;
  /**
   * false starts it with `--no-serve-artifacts`, as some shared servers run, for tests of the
   * refusal dermatune makes before a run (it uploads through the proxy only). Default true.
   */
  serveArtifacts?: boolean;
  log?: (line: string) => void;
}

/** Starts a background server for this store and waits until it answers `/health`. */
export async function startTrackingServer(
  options: StartServerOptions,
): Promise<Result<TrackingServer, TrackingServerFailure>> {
  const env = await ensurePythonEnv([MLFLOW_REQUIREMENTS], options.log);
  if (!env.ok) return fail({ reason: 'python-env', message: env.error.message });
  const layout = serverLayout(options.storeDir);
  await mkdir(layout.artifactsDir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  if (options.signal?.aborted) return fail({ reason: 'aborted', message: 'start abandoned' });
  let lastFailure: TrackingServerFailure = { reason: 'server-exited', message: 'not started' };
  // A free port can be taken between probing and binding; another port usually works. Any other
  // exit (a database the server refuses) would only repeat, so it is reported at once.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = options.port ?? (await freeLoopbackPort());
    const logStart = await fileSize(layout.logFile);
    const logStream = createWriteStream(layout.logFile, { flags: 'a' });
    const mlflow = serveCommand(
      env.value.python,
      layout,
      serverArgs(layout, host, port, 1, options.serveArtifacts ?? true),
    );
    // Through the guard, so the server does not outlive a runner killed with SIGKILL.
    const child = spawn(env.value.python, [SERVER_GUARD, String(process.pid), ...mlflow], {
      // Its own process group, so stop() reaches the uvicorn worker too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv(),
    });
    child.stdout?.pipe(logStream);
    child.stderr?.pipe(logStream);
    const url = `http://${host}:${port}`;
    const healthy = await waitForHealth(
      url,
      child,
      options.startTimeoutMs ?? 120_000,
      options.signal,
    );
    if (healthy.ok) {
      return ok({ url, pid: child.pid as number, stop: () => stopProcessGroup(child) });
    }
    await stopProcessGroup(child);
    lastFailure = healthy.error;
    if (healthy.error.reason !== 'server-exited') break;
    const logged = await logLinesSince(layout.logFile, logStart);
    const why = startFailureReason(logged);
    lastFailure = {
      ...healthy.error,
      message: `${healthy.error.message}${why ? `: ${why}` : ''} (log: ${layout.logFile})`,
    };
    if (!portTaken(logged) || options.port !== undefined) break;
  }
  return fail(lastFailure);
}

export interface UiServer {
  url: string;
  /** Resolves with the exit code when the server ends (Ctrl-C reaches it directly). */
  exited: Promise<number>;
  stop(): Promise<void>;
}

/**
 * `dermatune ui`: the same server on the same database, in the foreground on a fixed port so the
 * user can bookmark it. Output goes to the terminal; the promise resolves once it is healthy.
 */
export async function startUiServer(options: {
  storeDir: string;
  port?: number;
  host?: string;
  log?: (line: string) => void;
}): Promise<Result<UiServer, TrackingServerFailure>> {
  const env = await ensurePythonEnv([MLFLOW_REQUIREMENTS], options.log);
  if (!env.ok) return fail({ reason: 'python-env', message: env.error.message });
  const layout = serverLayout(options.storeDir);
  await mkdir(layout.artifactsDir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 5000;
  const [command, ...args] = serveCommand(
    env.value.python,
    layout,
    serverArgs(layout, host, port, 2),
  );
  const child = spawn(command as string, args, {
    stdio: 'inherit',
    env: serverEnv(),
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const healthy = await waitForHealth(url, child, 120_000);
  if (!healthy.ok) {
    child.kill('SIGTERM');
    return fail(healthy.error);
  }
  return ok({
    url,
    exited,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  });
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

/** How much of a server log's end is read when saying why a start failed. */
const LOG_TAIL_BYTES = 64 * 1024;

/** The non-empty lines a server wrote to its log after `from` (its last 64 KiB at most). */
async function logLinesSince(logFile: string, from: number): Promise<string[]> {
  const size = await fileSize(logFile);
  const start = Math.max(from, size - LOG_TAIL_BYTES);
  if (size <= start) return [];
  const file = await open(logFile, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    await file.read(buffer, 0, buffer.length, start);
    return buffer
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
  } finally {
    await file.close();
  }
}

/**
 * Why a server that exited at start did so: the last Python exception line of its log (a
 * traceback ends with it, though SQLAlchemy adds lines after), else its last line logged as an
 * error (uvicorn's own), else its last line.
 */
export function startFailureReason(lines: string[]): string | undefined {
  return (
    lines.findLast((line) => /^[A-Za-z_][\w.]*(Error|Exception)\b.*:/.test(line)) ??
    lines.findLast((line) => /\bERROR\b/.test(line)) ??
    lines.at(-1)
  );
}

/** uvicorn could not bind: the port was taken after it was probed. */
function portTaken(lines: string[]): boolean {
  return lines.some((line) => /address already in use/i.test(line));
}

function serveCommand(python: string, layout: ServerLayout, args: string[]): string[] {
  return [python, MLFLOW_SERVE, layout.databaseFile, ...args];
}

function serverArgs(
  layout: ServerLayout,
  host: string,
  port: number,
  workers: number,
  serveArtifacts = true,
): string[] {
  return [
    'server',
    '--backend-store-uri',
    layout.backendStoreUri,
    ...(serveArtifacts
      ? ['--serve-artifacts', '--artifacts-destination', layout.artifactsDir]
      : ['--no-serve-artifacts', '--default-artifact-root', layout.artifactsDir]),
    '--host',
    host,
    '--port',
    String(port),
    '--workers',
    String(workers),
  ];
}

function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The job runner serves GenAI features dermatune does not use and starts seven extra
    // Python processes; on a small machine it triples start-up time.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
  };
  // The server must not pick up a client setting meant for dermatune itself.
  delete env.MLFLOW_TRACKING_URI;
  return env;
}

async function waitForHealth(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Result<void, TrackingServerFailure>> {
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) return fail({ reason: 'aborted', message: 'start abandoned' });
    if (exitCode !== undefined) {
      return fail({ reason: 'server-exited', message: `mlflow server exited with ${exitCode}` });
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return ok(undefined);
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return fail({
    reason: 'health-timeout',
    message: `no answer on ${url}/health in ${timeoutMs} ms`,
  });
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  // The uvicorn worker may outlive its parent by a moment; make sure the group is gone.
  signalGroup(child, 'SIGKILL');
  await groupGone(child, 5_000);
}

/** Waits (a bounded while) until no process of the child's group is left. */
async function groupGone(child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
