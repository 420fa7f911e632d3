import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { redactSecrets } from '../redact-secrets.ts';
import type { AckOutcome, JournalAck, JournalEntry, JournalOp } from './journal-entry.ts';

/**
 * The append-only tracking journal of one target (the embedded server, or one remote URL):
 *
 *   <dir>/segments/<stamp>-<pid>-<rand>.jsonl       entries, one per tracking call
 *   <dir>/segments/<same>.acks.jsonl                 which entries the server has taken
 *   <dir>/segments/<same>.done                       every entry acknowledged; skipped on replay
 *   <dir>/refs.jsonl                                 client run ref -> server run id
 *   <dir>/links.jsonl                                sweep -> parent ref, variant -> child ref
 *
 * Nothing is rewritten: entries and acks only grow, so a crash at any point loses at most the
 * line being written, and a reader sees a prefix of the truth.
 */
export function segmentsDir(journalDir: string): string {
  return join(journalDir, 'segments');
}

export class JournalSegmentWriter {
  readonly path: string;
  readonly #secretValues: readonly string[];
  #seq = 0;
  #chain: Promise<void> = Promise.resolve();
  #release: (() => Promise<void>) | undefined;

  private constructor(path: string, secretValues: readonly string[]) {
    this.path = path;
    this.#secretValues = secretValues;
  }

  /** Opens a fresh segment and holds its lock, so a concurrent replay leaves it alone. */
  static async open(
    journalDir: string,
    secretValues: readonly string[],
    onLockLost: (error: Error) => void,
  ): Promise<JournalSegmentWriter> {
    const dir = segmentsDir(journalDir);
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = `${stamp}-${process.pid}-${randomBytes(3).toString('hex')}.jsonl`;
    const writer = new JournalSegmentWriter(join(dir, name), secretValues);
    await writeFile(writer.path, '', { flag: 'wx' });
    writer.#release = await lockfile.lock(writer.path, {
      realpath: false,
      onCompromised: onLockLost,
    });
    return writer;
  }

  /**
   * Writes the entry (with every secret value cut out: the journal is as public as MLflow) and
   * resolves once it is on disk. Appends are serialised so seq order is file order.
   */
  append(op: JournalOp): Promise<JournalEntry> {
    this.#seq += 1;
    const entry = redactSecrets({ ...op, seq: this.#seq, at: Date.now() }, this.#secretValues);
    const written = this.#chain.then(() => appendFile(this.path, `${JSON.stringify(entry)}\n`));
    this.#chain = written.catch(() => {});
    return written.then(() => entry as JournalEntry);
  }

  ack(seq: number, outcome: AckOutcome, message?: string): Promise<void> {
    return appendAck(this.path, { seq, outcome, ...(message ? { message } : {}) });
  }

  /** Marks the segment complete when everything was acknowledged, and drops the lock. */
  async close(allAcknowledged: boolean): Promise<void> {
    await this.#chain;
    if (allAcknowledged) await markDone(this.path);
    await this.#release?.();
    this.#release = undefined;
  }
}

export interface SegmentContents {
  path: string;
  entries: JournalEntry[];
  acked: Map<number, JournalAck>;
}

/** Every segment's entry file, oldest first, with whether it was marked done. */
export async function allSegments(journalDir: string): Promise<{ path: string; done: boolean }[]> {
  const dir = segmentsDir(journalDir);
  if (!existsSync(dir)) return [];
  const names = await readdir(dir);
  const done = new Set(names.filter((n) => n.endsWith('.done')).map((n) => n.slice(0, -5)));
  return names
    .filter((n) => n.endsWith('.jsonl') && !n.endsWith('.acks.jsonl'))
    .sort()
    .map((n) => ({ path: join(dir, n), done: done.has(n) }));
}

/** Segments that still hold unacknowledged entries, oldest first. */
export async function pendingSegments(journalDir: string): Promise<string[]> {
  return (await allSegments(journalDir)).filter((s) => !s.done).map((s) => s.path);
}

/** A segment's entries alone, without its acknowledgements. */
export async function readEntries(path: string): Promise<JournalEntry[]> {
  return readJsonLines<JournalEntry>(await readFile(path, 'utf8'));
}

export async function readSegment(path: string): Promise<SegmentContents> {
  const entries = await readEntries(path);
  const acked = new Map<number, JournalAck>();
  const acksPath = ackPath(path);
  if (existsSync(acksPath)) {
    for (const ack of readJsonLines<JournalAck>(await readFile(acksPath, 'utf8'))) {
      acked.set(ack.seq, ack);
    }
  }
  return { path, entries, acked };
}

/** Takes a segment for replay; undefined when a live run or another replay holds it. */
export async function tryLockSegment(path: string): Promise<(() => Promise<void>) | undefined> {
  try {
    return await lockfile.lock(path, { realpath: false, onCompromised: () => {} });
  } catch {
    return undefined;
  }
}

export function appendAck(segmentPath: string, ack: JournalAck): Promise<void> {
  // The leading newline seals a line torn by a process that crashed while acknowledging.
  return appendFile(ackPath(segmentPath), `\n${JSON.stringify(ack)}\n`);
}

export function markDone(segmentPath: string): Promise<void> {
  return writeFile(`${segmentPath.slice(0, -'.jsonl'.length)}.jsonl.done`, '');
}

function ackPath(segmentPath: string): string {
  return `${segmentPath.slice(0, -'.jsonl'.length)}.acks.jsonl`;
}

/** Parses JSON lines, ignoring a torn last line left by a crash mid-write. */
export function readJsonLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn write: the entry was never acknowledged, its caller never saw it stored
    }
  }
  return out;
}

/**
 * The (metric key, step) pairs already journalled for a run, across every segment: what a
 * resumed run must not log again when the stage that produced them runs a second time.
 */
export async function journalledMetricSteps(
  journalDir: string,
  ref: string,
): Promise<Map<string, Set<number>>> {
  const steps = new Map<string, Set<number>>();
  for (const { path } of await allSegments(journalDir)) {
    for (const entry of await readEntries(path)) {
      if (entry.op !== 'log-batch' || entry.ref !== ref) continue;
      for (const metric of entry.metrics) {
        const seen = steps.get(metric.key) ?? new Set<number>();
        seen.add(metric.step);
        steps.set(metric.key, seen);
      }
    }
  }
  return steps;
}
