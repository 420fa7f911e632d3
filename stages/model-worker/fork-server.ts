import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { canonicalJson } from '../../runner/canonical-json.ts';

/**
 * One fork server per interpreter and environment, started on the first heavy job and kept for
 * the life of this process (dermatune_forkserver/: it imports torch, transformers and PEFT once
 * and forks a child per job, which saves each train and generate stage about four seconds).
 * The server reads its stdin only to notice that this process is gone; its jobs run on their
 * launcher's streams, never on the server's.
 */

export interface ForkServer {
  /** The Unix socket the launcher connects to. */
  socket: string;
  pid: number;
}

/** Set to 0 to start every job in its own interpreter, as before the fork server. */
export const FORK_SERVER_SWITCH = 'DERMATUNE_WORKER_FORK_SERVER';

/** Importing torch, transformers and PEFT on a slow disk; past this the jobs start on their own. */
const READY_TIMEOUT_MS = 180_000;

const servers = new Map<string, Promise<ForkServer | string>>();

/**
 * The server for this interpreter and environment, or why there is none (then the caller starts
 * the job in its own interpreter). A server that has died is replaced on the next call.
 */
export function forkServerFor(
  python: string,
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<ForkServer | string> {
  if (env[FORK_SERVER_SWITCH] === '0') return Promise.resolve(`${FORK_SERVER_SWITCH}=0`);
  // macOS's system frameworks are not safe to fork once loaded (why Python's multiprocessing
  // spawns there), and Windows has no fork: the server is for Linux only.
  if (process.platform !== 'linux') return Promise.resolve(`no fork server on ${process.platform}`);
  const key = canonicalJson({ python, cwd, env });
  let server = servers.get(key);
  if (server === undefined) {
    server = startServer(python, cwd, env, () => servers.delete(key));
    servers.set(key, server);
  }
  return server;
}

function startServer(
  python: string,
  cwd: string,
  env: Record<string, string | undefined>,
  onGone: () => void,
): Promise<ForkServer | string> {
  // A short path: a Unix socket's name must fit in about 100 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'dermatune-fork-'));
  const socket = join(dir, 's');
  let child: ChildProcessByStdio<Writable, Readable, Readable>;
  try {
    child = spawn(python, ['-m', 'dermatune_forkserver.server', socket], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    onGone();
    return Promise.resolve(`cannot start it: ${(error as Error).message}`);
  }
  const stop = () => child.kill('SIGKILL');
  process.once('exit', stop);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    // Kept for the reason of a failed start; once ready, the server writes only refusals here.
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  child.on('exit', () => {
    process.removeListener('exit', stop);
    rmSync(dir, { recursive: true, force: true });
    onGone();
  });
  return new Promise<ForkServer | string>((resolve) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`not ready within ${READY_TIMEOUT_MS / 1000} s`);
    }, READY_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(`cannot start it: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(`it ended before it was ready (exit ${code ?? signal}): ${stderr.trim()}`);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes('ready\n')) return;
      clearTimeout(timer);
      // Neither the server nor its pipes keep this process alive; it ends with this process.
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) {
        (stream as unknown as { unref?: () => void }).unref?.();
      }
      resolve({ socket, pid: child.pid as number });
    });
  });
}
