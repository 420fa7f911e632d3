import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fail, ok, type Result } from './result.ts';

/**
 * One writer per store. Written by hand rather than with a time-based lock (proper-lockfile)
 * because a run killed with SIGKILL must not block the next run for a stale period: the lock
 * records its owner's pid, and a lock whose owner on this host is gone is taken over at once.
 */
export interface StoreLock {
  release(): Promise<void>;
}

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export type LockFailure = { reason: 'store-busy'; owner: LockOwner; message: string };

export async function acquireStoreLock(
  path: string,
  options: { waitMs?: number; command?: string } = {},
): Promise<Result<StoreLock, LockFailure>> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? 0);
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    command: options.command ?? process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
  };
  for (;;) {
    // Written aside and hard-linked into place, so the lock never exists without its owner.
    const candidate = `${path}.${process.pid}`;
    await writeFile(candidate, JSON.stringify(me));
    try {
      await link(candidate, path);
      return ok({ release: () => rm(path, { force: true }) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(candidate, { force: true });
    }
    const owner = await readOwner(path);
    if (!owner) continue;
    if (owner.host === me.host && !isAlive(owner.pid)) {
      // The owner died without releasing (SIGKILL, power loss): the lock is stale.
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      return fail({
        reason: 'store-busy',
        owner,
        message: `the store is in use by another dermatune process (pid ${owner.pid} on ${owner.host}, since ${owner.since}: ${owner.command}); wait for it to finish or pass --wait`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    // Removed by its owner between our attempt and this read: try again.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
