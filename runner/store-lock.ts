import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { isProcessAlive } from './process-alive.ts';
import { fail, ok, type Result } from './result.ts';
import { sleep } from './retry-policy.ts';

/**
 * One writer per store. Written by hand rather than with a time-based lock (proper-lockfile)
 * because a run killed with SIGKILL must not block the next run for a stale period: the lock
 * records its owner's pid, and a lock whose owner on this host is gone is taken over at once.
 *
 * Every holder writes a unique token into the lock, and every change to the lock file is one
 * atomic step that only one process can win:
 * - acquire: `link` a fully written file into place (fails if the lock exists);
 * - take over a dead owner's lock: first win the lock `<lock>.takeover.<dead token>` (the same
 *   algorithm, one level down, so a taker killed mid-takeover is itself taken over), check the
 *   lock still holds that dead token, then `rename` one's own file over it;
 * - release: remove the lock only while it holds one's own token. Nobody else changes a lock
 *   whose owner is alive, so the check cannot go stale before the removal.
 */
export interface StoreLock {
  release(): Promise<void>;
}

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
  token: string;
}

export type LockFailure =
  | { reason: 'store-busy'; owner: LockOwner; message: string }
  | { reason: 'lock-unreadable'; message: string };

/** What a lock file says, for `status`: nobody, a live owner, or an owner that is gone. */
export type LockState =
  | { state: 'free' }
  | { state: 'held'; owner: LockOwner }
  | { state: 'stale'; owner: LockOwner }
  | { state: 'unreadable' };

const POLL_MS = 250;
/** A lock that stays unparseable this long was not written by a dermatune that is running. */
const UNREADABLE_GRACE_MS = 2000;

export async function acquireStoreLock(
  path: string,
  options: { waitMs?: number; command?: string; pollMs?: number } = {},
): Promise<Result<StoreLock, LockFailure>> {
  await mkdir(dirname(path), { recursive: true });
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    command: options.command ?? process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  const deadline = Date.now() + (options.waitMs ?? 0);
  const pollMs = options.pollMs ?? POLL_MS;
  const taken = await takeLock(path, me, () => Date.now() >= deadline, pollMs);
  if (!taken.ok) return taken;
  return ok({ release: () => releaseLock(path, me.token) });
}

export async function inspectStoreLock(path: string): Promise<LockState> {
  const read = await readOwner(path);
  if (read.state === 'absent') return { state: 'free' };
  if (read.state === 'unreadable') return { state: 'unreadable' };
  return isStale(read.owner)
    ? { state: 'stale', owner: read.owner }
    : { state: 'held', owner: read.owner };
}

async function takeLock(
  path: string,
  me: LockOwner,
  expired: () => boolean,
  pollMs: number,
): Promise<Result<void, LockFailure>> {
  let unreadableSince: number | undefined;
  for (;;) {
    // Written aside and hard-linked into place, so the lock never exists without its owner.
    const candidate = `${path}.${me.token}`;
    await writeFile(candidate, JSON.stringify(me));
    let linked = false;
    try {
      await link(candidate, path);
      linked = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(candidate, { force: true });
    }
    if (linked) return ok(undefined);
    const read = await readOwner(path);
    if (read.state === 'absent') continue;
    if (read.state === 'unreadable') {
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince >= UNREADABLE_GRACE_MS) {
        return fail({
          reason: 'lock-unreadable',
          message: `the store lock ${path} is not a lock dermatune wrote; if no dermatune process uses this store, remove it`,
        });
      }
    } else {
      unreadableSince = undefined;
      // The owner died without releasing (SIGKILL, power loss): take its lock over.
      if (isStale(read.owner)) {
        if (await takeOver(path, me, read.owner.token, pollMs)) return ok(undefined);
      } else if (expired()) {
        const { owner } = read;
        return fail({
          reason: 'store-busy',
          owner,
          message: `the store is in use by another dermatune process (pid ${owner.pid} on ${owner.host}, since ${owner.since}: ${owner.command}); wait for it to finish or pass --wait`,
        });
      }
    }
    await sleep(pollMs);
  }
}

/** Replaces a dead owner's lock with ours; false when another process got there first. */
async function takeOver(
  path: string,
  me: LockOwner,
  deadToken: string,
  pollMs: number,
): Promise<boolean> {
  const guard = `${path}.takeover.${deadToken}`;
  // Whoever holds the guard for this dead token is the only one allowed to replace it; the
  // others give up at once and look at the lock again.
  const won = await takeLock(guard, { ...me, token: `${me.token}g` }, () => true, pollMs);
  if (!won.ok) return false;
  try {
    const now = await readOwner(path);
    if (now.state !== 'owner' || now.owner.token !== deadToken) return false;
    const mine = `${path}.${me.token}`;
    await writeFile(mine, JSON.stringify(me));
    await rename(mine, path);
    return true;
  } finally {
    await releaseLock(guard, `${me.token}g`);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const read = await readOwner(path);
  if (read.state === 'owner' && read.owner.token === token) await rm(path, { force: true });
}

type OwnerRead =
  | { state: 'owner'; owner: LockOwner }
  | { state: 'absent' }
  | { state: 'unreadable' };

async function readOwner(path: string): Promise<OwnerRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // Removed by its owner between our attempt and this read: try again.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    return { state: 'unreadable' };
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner> | null;
    if (owner && typeof owner.pid === 'number' && typeof owner.host === 'string') {
      return {
        state: 'owner',
        owner: {
          pid: owner.pid,
          host: owner.host,
          // Locks written before tokens existed: their content identifies them as well.
          token:
            typeof owner.token === 'string'
              ? owner.token
              : `legacy-${createHash('sha256').update(text).digest('hex').slice(0, 24)}`,
          command: String(owner.command ?? ''),
          since: String(owner.since ?? ''),
        },
      };
    }
  } catch {
    // fall through
  }
  return { state: 'unreadable' };
}

function isStale(owner: LockOwner): boolean {
  return owner.host === hostname() && !isProcessAlive(owner.pid);
}
