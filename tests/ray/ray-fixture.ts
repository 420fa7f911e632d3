import { type ChildProcess, spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ArtifactStore } from '../../runner/artifact-store.ts';

/**
 * Drives the real `dermatune` binary as a process (the way a user runs it), line by line, so a
 * test can act at a moment of the run: stop a Ray job once it trains, kill the runner.
 */
export const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
export const CLI = join(process.cwd(), 'runner', 'cli', 'bin.js');
export const SPEC = join(process.cwd(), 'tests', 'ray', 'ray-demo.yaml');

export interface CliProcess {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  done: Promise<number | null>;
  /** Resolves with the first line matching, as soon as it is printed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startCli(
  args: string[],
  env: Record<string, string>,
  cli: string = CLI,
): CliProcess {
  const child = spawn(NODE, [cli, ...args], {
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const take = (line: string) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', take);
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', take);
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    done,
    waitFor(pattern, timeoutMs = 300_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        // The process ending without the line fails at once, not at the timeout.
        void done.then(() => {
          if (!lines.some((line) => pattern.test(line))) {
            reject(
              new Error(
                `exited without a line matching ${pattern}:\n${lines.slice(-30).join('\n')}`,
              ),
            );
          }
        });
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const run = startCli(args, env);
  const code = await run.done;
  return { code, output: run.lines.join('\n') };
}

/** The keys of the stored entries, by the kind of stage that wrote them. */
export async function storedByKind(store: string): Promise<Map<string, string[]>> {
  const artifacts = new ArtifactStore(store);
  const byKind = new Map<string, string[]>();
  for (const key of await artifacts.storedKeys()) {
    const entry = await artifacts.lookup(key);
    if (entry.state !== 'present') continue;
    const kind = entry.manifest.record.kind;
    byKind.set(kind, [...(byKind.get(kind) ?? []), key]);
  }
  return byKind;
}

/** A copy of a store without the entries of the given kinds: those run again in the copy. */
export async function copyStoreWithout(
  from: string,
  to: string,
  kinds: readonly string[],
): Promise<void> {
  await cp(join(from, 'stages'), join(to, 'stages'), { recursive: true });
  const byKind = await storedByKind(to);
  const copy = new ArtifactStore(to);
  for (const kind of kinds) {
    for (const key of byKind.get(kind) ?? []) await copy.remove(key);
  }
}

/** The JSON events of a `--json` run, parsed. */
export function jsonEvents(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
