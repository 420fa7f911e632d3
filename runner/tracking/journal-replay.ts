import type { JournalSender } from './journal-sender.ts';
import {
  appendAck,
  markDone,
  pendingSegments,
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
      if (index === pending.length) await markDone(path);
    } finally {
      await release();
    }
  }
  return result;
}
