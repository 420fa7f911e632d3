import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Resumable state of stages that have not finished: `<root>/resume/<key>/`, one folder per
 * stage key, which a killed attempt leaves behind (unlike its staging folder, which the next run
 * clears) and the next attempt of the same key picks up. What goes inside is the stage's
 * business (the model worker's training checkpoints and finished generation batches); the one
 * file the runner reads is `state.json`, the progress the last checkpoint recorded. A folder is
 * removed once its key's output is committed, or by `gc` when no spec refers to its key.
 *
 * Keyed by the stage key, so a spec change that changes the key never sees another key's state.
 */
export const CHECKPOINT_STATE_FILE = 'state.json';

export interface CheckpointState {
  key: string;
  /** The worker job type that wrote it (train, generate). */
  jobType: string;
  /** Steps (train) or items (generate) done at the last checkpoint, of `total`. */
  done: number;
  total: number;
  unit: string;
  writtenAt: Date;
}

export class CheckpointStore {
  readonly root: string;

  /** `base` is the folder that holds `resume/`: the artifact store's root or a shared storage. */
  constructor(base: string) {
    this.root = join(base, 'resume');
  }

  dir(key: string): string {
    return join(this.root, key);
  }

  /** The folder for a key, created; what a stage gets as its `resumeDir`. */
  async open(key: string): Promise<string> {
    await mkdir(this.dir(key), { recursive: true });
    return this.dir(key);
  }

  async keys(): Promise<string[]> {
    return (await readdir(this.root).catch(() => [] as string[])).filter((name) =>
      /^[0-9a-f]{64}$/.test(name),
    );
  }

  /** The progress of a key's last checkpoint; undefined when it has none (yet). */
  async read(key: string): Promise<CheckpointState | undefined> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(join(this.dir(key), CHECKPOINT_STATE_FILE), 'utf8'));
    } catch {
      return undefined;
    }
    const state = raw as Record<string, unknown>;
    if (
      typeof state.job_type !== 'string' ||
      typeof state.done !== 'number' ||
      typeof state.total !== 'number' ||
      typeof state.unit !== 'string'
    ) {
      return undefined;
    }
    const writtenAt = typeof state.written_at === 'number' ? state.written_at * 1000 : 0;
    return {
      key,
      jobType: state.job_type,
      done: state.done,
      total: state.total,
      unit: state.unit,
      writtenAt: new Date(writtenAt),
    };
  }

  async remove(key: string): Promise<void> {
    // Renamed aside first, so a reader never meets a half-deleted folder under the key.
    const doomed = join(this.root, `.${key}.removed-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.dir(key), doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await rm(doomed, { recursive: true, force: true });
  }
}
