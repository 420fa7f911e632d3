import { type RetryPolicy, retryDelayMs } from '../retry-policy.ts';
import type { JournalEntry, JournalOp } from './journal-entry.ts';
import { replaySegments } from './journal-replay.ts';
import type { JournalSender } from './journal-sender.ts';
import type { JournalSegmentWriter } from './journal-store.ts';

export interface PumpReport {
  /** Entries of this session the server took (or refused for good). */
  acknowledged: number;
  /** Entries of this session left in the journal for `sync` or the next run. */
  pending: number;
  lastError?: string;
}

/**
 * Moves a live session's journal to the server in the background: the run only waits for the
 * local append. Older segments left by earlier sessions go first (the automatic replay at the
 * next run), then this session's entries in order. When the server is unreachable the pump
 * stops, keeps everything pending, and tries again later with a growing delay; the run goes on.
 */
/**
 * While the server is down the pump tries again after 1 s, doubling to 30 s; the journal holds
 * everything meanwhile, so there is no budget. One pump per run: no jitter.
 */
const PUMP_BACKOFF: Omit<RetryPolicy, 'maxAttempts'> = {
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  jitter: 'none',
};

export class JournalPump {
  readonly #writer: JournalSegmentWriter;
  readonly #journalDir: string;
  /** Called on the first need to send, so a session with nothing to send starts no server. */
  readonly #connect: () => Promise<JournalSender | undefined>;
  #sender: Promise<JournalSender | undefined> | undefined;
  readonly #log: (line: string) => void;
  readonly #queue: JournalEntry[] = [];
  /** Entries whose send failed ambiguously: they may have been applied, so dedupe on resend. */
  readonly #attempted = new Set<number>();
  #acknowledged = 0;
  #running: Promise<void> | undefined;
  #olderReplayed = false;
  #retryAt = 0;
  /** Failed sends since the last one that went through: the back-off grows with them. */
  #consecutiveFailures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  #failuresSince = 0;
  #stopped = false;
  /** Settled to true/false once the server is known to be up or never coming. */
  #senderUp: boolean | undefined;

  constructor(options: {
    writer: JournalSegmentWriter;
    journalDir: string;
    sender: () => Promise<JournalSender | undefined>;
    log: (line: string) => void;
  }) {
    this.#writer = options.writer;
    this.#journalDir = options.journalDir;
    this.#connect = options.sender;
    this.#log = options.log;
  }

  #senderNow(): Promise<JournalSender | undefined> {
    if (!this.#sender) {
      this.#sender = this.#connect();
      void this.#sender.then((sender) => {
        this.#senderUp = sender !== undefined;
      });
    }
    return this.#sender;
  }

  /** True once this session has anything to send. */
  get idle(): boolean {
    return this.#sender === undefined && this.#queue.length === 0;
  }

  /** Journals the call (awaited: it is on disk when this resolves), then sends it eventually. */
  async record(op: JournalOp): Promise<void> {
    const entry = await this.#writer.append(op);
    this.#queue.push(entry);
    this.kick();
  }

  kick(): void {
    if (this.#running || Date.now() < this.#retryAt) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /**
   * Waits until everything is sent, or the server proved unreachable once more, or the deadline
   * passed; then closes the segment (marked done only when nothing is left).
   */
  async finish(deadlineMs: number): Promise<PumpReport> {
    const stopAt = Date.now() + deadlineMs;
    if (this.idle) {
      // Nothing recorded and nothing older to replay: no server is needed.
      this.#stopped = true;
      await this.#writer.close(true);
      return { acknowledged: 0, pending: 0 };
    }
    const failuresBefore = this.#failuresSince;
    this.#retryAt = 0;
    while (Date.now() < stopAt) {
      this.kick();
      if (this.#running) await within(this.#running, stopAt - Date.now());
      if (this.#queue.length === 0 && this.#olderReplayed) break;
      if (this.#failuresSince > failuresBefore) break;
      if (this.#senderUp === false) break;
      await within(undefined, Math.min(50, stopAt - Date.now()));
    }
    clearTimeout(this.#retryTimer);
    this.#retryAt = Number.POSITIVE_INFINITY;
    this.#stopped = true;
    // A request in flight may finish; one stuck waiting for a server that never came may not.
    if (this.#running) await within(this.#running, 5_000);
    await this.#writer.close(this.#queue.length === 0);
    return {
      acknowledged: this.#acknowledged,
      pending: this.#queue.length,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  async #drain(): Promise<void> {
    const sender = await this.#senderNow();
    if (!sender || this.#stopped) return;
    if (!this.#olderReplayed) {
      const older = await replaySegments(this.#journalDir, sender, {
        skip: this.#writer.path,
        log: this.#log,
      });
      if (!older.complete) return this.#backOff(older.lastError ?? 'unreachable');
      this.#olderReplayed = true;
    }
    while (this.#queue.length > 0 && !this.#stopped) {
      const entry = this.#queue[0] as JournalEntry;
      const sent = await sender.send(entry, this.#attempted.has(entry.seq));
      if (sent.outcome === 'unreachable') {
        this.#attempted.add(entry.seq);
        return this.#backOff(sent.message);
      }
      if (sent.outcome === 'rejected') {
        this.#log(`tracking: MLflow refused ${entry.op} (${sent.message})`);
      }
      await this.#writer.ack(
        entry.seq,
        sent.outcome,
        sent.outcome === 'rejected' ? sent.message : undefined,
      );
      this.#queue.shift();
      this.#acknowledged += 1;
      this.#consecutiveFailures = 0;
    }
  }

  #backOff(message: string): void {
    if (this.#failuresSince === 0 || this.#lastError !== message) {
      this.#log(`tracking: server unreachable, journalling only (${message})`);
    }
    this.#lastError = message;
    this.#failuresSince += 1;
    this.#consecutiveFailures += 1;
    const delay = retryDelayMs(this.#consecutiveFailures, undefined, PUMP_BACKOFF);
    this.#retryAt = Date.now() + delay;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.kick(), delay);
    this.#retryTimer.unref();
  }
}

/** Waits for the promise (or just the time) but never longer than `ms`; leaves no timer behind. */
async function within(promise: Promise<void> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  try {
    await Promise.race(promise ? [promise, timeout] : [timeout]);
  } finally {
    clearTimeout(timer);
  }
}
