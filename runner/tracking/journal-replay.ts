import type { JournalEntry } from './journal-entry.ts';
import type { JournalSender } from './journal-sender.ts';
import {
  allSegments,
  appendAck,
  markDone,
  pendingSegments,
  readEntries,
  readSegment,
  tryLockSegment,
} from './journal-store.ts';

export interface ReplayResult {
  /** False when the server became unreachable; the rest waits for the next replay. */
  complete: boolean;
  /** Segments skipped because a live run or another replay holds them. */
  busySegments: number;
  /** Entries still unacknowledged after this replay (in segments it could read). */
  pendingEntries: number;
  lastError?: string;
}

/**
 * Sends every unacknowledged entry of every finished-writing segment, oldest segment first and
 * in entry order within it (a run's creation precedes its metrics; a parent precedes its
 * children). Every resent entry is treated as possibly applied already, so metric batches are
 * deduplicated against the server's history before they go.
 */
export async function replaySegments(
  journalDir: string,
  sender: JournalSender,
  options: { skip?: string; log?: (line: string) => void } = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { complete: true, busySegments: 0, pendingEntries: 0 };
  for (const path of await pendingSegments(journalDir)) {
    if (path === options.skip) continue;
    const release = await tryLockSegment(path);
    if (!release) {
      result.busySegments += 1;
      continue;
    }
    try {
      const segment = await readSegment(path);
      const pending = segment.entries.filter((e) => !segment.acked.has(e.seq));
      if (!result.complete) {
        result.pendingEntries += pending.length;
        continue;
      }
      let index = 0;
      for (; index < pending.length; index += 1) {
        const entry = pending[index];
        if (!entry) break;
        const sent = await sender.send(entry, true);
        if (sent.outcome === 'unreachable') {
          result.complete = false;
          result.lastError = sent.message;
          break;
        }
        if (sent.outcome === 'rejected') {
          options.log?.(`tracking: MLflow refused ${entry.op} (${sent.message})`);
        }
        await appendAck(path, {
          seq: entry.seq,
          outcome: sent.outcome,
          ...(sent.outcome === 'rejected' ? { message: sent.message } : {}),
        });
      }
      result.pendingEntries += pending.length - index;
      if (index < pending.length) continue;
      const closed = await closeAbandonedRuns(
        segment.entries,
        sender,
        await refsWrittenAfter(journalDir, path),
      );
      if (closed.ok) await markDone(path);
      else {
        result.complete = false;
        result.lastError = closed.error;
      }
    } finally {
      await release();
    }
  }
  return result;
}

/**
 * A segment whose runs were left RUNNING was written by a process that died before it could
 * close them (a hard kill, a second Ctrl-C, a crash): its runs are ended as KILLED, at the time
 * of the segment's last entry, so the UI does not show them running forever. A run that a later
 * session took up again (the sweep's parent, a resumed variant) is that session's to end.
 */
async function closeAbandonedRuns(
  entries: JournalEntry[],
  sender: JournalSender,
  takenUpLater: ReadonlySet<string>,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const open = new Set<string>();
  let lastAt = 0;
  for (const entry of entries) {
    lastAt = Math.max(lastAt, entry.at);
    if (entry.op === 'create-run') open.add(entry.ref);
    if (entry.op === 'update-run') {
      if (entry.status === 'RUNNING') open.add(entry.ref);
      else open.delete(entry.ref);
    }
  }
  for (const ref of open) {
    if (takenUpLater.has(ref)) continue;
    const sent = await sender.send(
      { op: 'update-run', ref, status: 'KILLED', endTime: lastAt, seq: 0, at: lastAt },
      true,
    );
    if (sent.outcome === 'unreachable') return { ok: false, error: sent.message };
  }
  return { ok: true };
}

/** Run refs that segments written after `segment` use (sent or not, finished or live). */
async function refsWrittenAfter(journalDir: string, segment: string): Promise<Set<string>> {
  const refs = new Set<string>();
  for (const { path } of await allSegments(journalDir)) {
    if (path <= segment) continue;
    for (const entry of await readEntries(path)) {
      if ('ref' in entry && typeof entry.ref === 'string') refs.add(entry.ref);
    }
  }
  return refs;
}
