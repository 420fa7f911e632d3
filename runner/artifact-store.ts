import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sha256Hex } from './canonical-json.ts';
import type { StageKeyRecord } from './stage-key.ts';
import type { ItemMemo, StageSummary } from './stage-kind.ts';

/**
 * Content-keyed, crash-safe storage of stage outputs.
 *
 *   <root>/stages/<key>/manifest.json   the key record, params, timings, file list
 *   <root>/stages/<key>/output/...      what the stage wrote
 *   <root>/stages/<key>/stage.log       the stage's log
 *   <root>/staging/<key>.<nonce>/       where a running stage writes
 *   <root>/memo/<namespace>/...         per-item results that survive a crash (LLM calls)
 *   <root>/cache/<kind>/...             long-lived caches of a kind (downloaded shards)
 *   <root>/failed/<key>.log             the log of the last failed attempt
 *   <root>/corrupt/                     entries that failed verification, kept for inspection
 *
 * A stage writes into a staging folder; on success the manifest is written into it last and
 * the folder is renamed into `stages/` in one atomic step, so an entry either exists whole or
 * not at all. A half-written output never becomes a hit.
 */
export interface StageManifest {
  formatVersion: 1;
  key: string;
  nodeId: string;
  record: StageKeyRecord;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  summary: StageSummary;
  /**
   * Every file under output/, with its size (checked at every look-up: truncation and loss)
   * and its sha256 (checked where content matters: before a stage reads it as an input, and by
   * `dermatune verify`). Entries stored before hashes were recorded have no sha256.
   */
  files: StoredFile[];
}

export interface StoredFile {
  path: string;
  size: number;
  sha256?: string;
}

export type EntryState =
  | { state: 'present'; manifest: StageManifest; dir: string; outputDir: string }
  | { state: 'absent' }
  | { state: 'corrupt'; why: string };

export interface StagingArea {
  dir: string;
  outputDir: string;
  logFile: string;
}

export class ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  entryDir(key: string): string {
    return join(this.root, 'stages', key);
  }

  /** Where a committed entry's files are (whether the entry exists is `lookup`'s to say). */
  outputDir(key: string): string {
    return join(this.entryDir(key), 'output');
  }

  /** Long-lived per-kind cache (downloads); created on demand, never part of an output. */
  cacheDir(kind: string): string {
    return join(this.root, 'cache', kind);
  }

  get lockPath(): string {
    return join(this.root, 'store.lock');
  }

  async lookup(key: string): Promise<EntryState> {
    const dir = this.entryDir(key);
    let text: string;
    try {
      text = await readFile(join(dir, 'manifest.json'), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        // Unreadable (permissions, a folder where the manifest should be): not usable as a hit.
        return { state: 'corrupt', why: `the manifest cannot be read (${code})` };
      }
      try {
        await stat(dir);
        return { state: 'corrupt', why: 'the entry has no manifest' };
      } catch {
        return { state: 'absent' };
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { state: 'corrupt', why: 'the manifest is not valid JSON' };
    }
    const manifest = asManifest(parsed);
    if (!manifest) return { state: 'corrupt', why: 'the manifest lacks required fields' };
    if (manifest.key !== key) {
      return { state: 'corrupt', why: 'the manifest belongs to another key or format' };
    }
    const outputDir = this.outputDir(key);
    for (const file of manifest.files) {
      try {
        const info = await stat(join(outputDir, file.path));
        if (!info.isFile()) return { state: 'corrupt', why: `${file.path} is not a file` };
        if (info.size !== file.size) {
          return {
            state: 'corrupt',
            why: `${file.path} is ${info.size} bytes, expected ${file.size}`,
          };
        }
      } catch {
        return { state: 'corrupt', why: `${file.path} is missing` };
      }
    }
    return { state: 'present', manifest, dir, outputDir };
  }

  /**
   * Reads every file of a present entry and compares it with the sha256 its manifest recorded:
   * the check that catches same-size damage. Undefined when the content is as stored.
   */
  async verifyContent(
    entry: Extract<EntryState, { state: 'present' }>,
  ): Promise<string | undefined> {
    for (const file of entry.manifest.files) {
      if (file.sha256 === undefined) continue;
      let actual: string;
      try {
        actual = await sha256File(join(entry.outputDir, file.path));
      } catch (error) {
        return `${file.path} cannot be read (${(error as NodeJS.ErrnoException).code})`;
      }
      if (actual !== file.sha256)
        return `${file.path} differs from what was stored (sha256 mismatch)`;
    }
    return undefined;
  }

  /** Moves a corrupt entry aside (never deletes it) so the key becomes a miss. */
  async quarantine(key: string): Promise<string> {
    const stamp = Date.now();
    const target = join(this.root, 'corrupt', `${key}.${stamp}`);
    await mkdir(join(this.root, 'corrupt'), { recursive: true });
    try {
      await rename(this.entryDir(key), target);
      return target;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw error;
      // Moving a folder to another parent needs write access to the folder itself (its ".."
      // changes); an entry we may not write is renamed beside itself, which needs none.
      const beside = join(this.root, 'stages', `${key}.corrupt.${stamp}`);
      await rename(this.entryDir(key), beside);
      return beside;
    }
  }

  async openStaging(key: string): Promise<StagingArea> {
    const dir = join(this.root, 'staging', `${key}.${randomBytes(4).toString('hex')}`);
    const outputDir = join(dir, 'output');
    await mkdir(outputDir, { recursive: true });
    const logFile = join(dir, 'stage.log');
    await writeFile(logFile, `stage ${key} started ${new Date().toISOString()}\n`);
    return { dir, outputDir, logFile };
  }

  /**
   * Moves a finished staging folder into place. With `replace` (a forced rerun), an existing
   * entry is swapped out only once the new one is complete, so a failed rerun loses nothing.
   */
  async commit(
    staging: StagingArea,
    manifest: Omit<StageManifest, 'files' | 'formatVersion'>,
    options: { replace?: boolean } = {},
  ): Promise<string> {
    const files = await listFiles(staging.outputDir);
    const full: StageManifest = { formatVersion: 1, ...manifest, files };
    await writeFile(join(staging.dir, 'manifest.json'), JSON.stringify(full, null, 2));
    const target = this.entryDir(manifest.key);
    await mkdir(join(this.root, 'stages'), { recursive: true });
    try {
      await rename(staging.dir, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      if (options.replace) {
        const old = join(
          this.root,
          'staging',
          `${manifest.key}.replaced.${randomBytes(4).toString('hex')}`,
        );
        await rename(target, old);
        await rename(staging.dir, target);
        await rm(old, { recursive: true, force: true });
      } else {
        // Someone committed the same key first; theirs is as good as ours.
        await rm(staging.dir, { recursive: true, force: true });
      }
    }
    return join(target, 'output');
  }

  /** Drops a failed or cancelled attempt, keeping its log where the user can read it. */
  async discard(staging: StagingArea, key: string): Promise<string | undefined> {
    const failedLog = join(this.root, 'failed', `${key}.log`);
    let kept: string | undefined;
    try {
      await mkdir(join(this.root, 'failed'), { recursive: true });
      await rename(staging.logFile, failedLog);
      kept = failedLog;
    } catch {
      kept = undefined;
    }
    await rm(staging.dir, { recursive: true, force: true });
    return kept;
  }

  /** Staging folders left by a killed run; safe to remove only under the store lock. */
  async clearStaging(): Promise<number> {
    const dir = join(this.root, 'staging');
    const left = await readdir(dir).catch(() => [] as string[]);
    await rm(dir, { recursive: true, force: true });
    return left.length;
  }

  async storedKeys(): Promise<string[]> {
    return (await readdir(join(this.root, 'stages')).catch(() => [] as string[])).filter((name) =>
      /^[0-9a-f]{64}$/.test(name),
    );
  }

  async remove(key: string): Promise<void> {
    // Renamed first so a concurrent reader never sees a half-deleted entry.
    const doomed = join(this.root, 'staging', `${key}.gc.${randomBytes(4).toString('hex')}`);
    await mkdir(join(this.root, 'staging'), { recursive: true });
    await rename(this.entryDir(key), doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  memo(): ItemMemo {
    return new FileItemMemo(join(this.root, 'memo'));
  }
}

/** One JSON file per item, written aside and renamed into place. */
class FileItemMemo implements ItemMemo {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  #path(namespace: string, key: string): string {
    const safe = /^[A-Za-z0-9_.-]{1,100}$/.test(key) ? key : sha256Hex(key);
    return join(
      this.#root,
      namespace.replace(/[^A-Za-z0-9_.-]/g, '_'),
      safe.slice(0, 2),
      `${safe}.json`,
    );
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.#path(namespace, key), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  async put<T>(namespace: string, key: string, value: T): Promise<void> {
    const path = this.#path(namespace, key);
    await mkdir(join(path, '..'), { recursive: true });
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify(value));
    await rename(temp, path);
  }
}

async function listFiles(root: string): Promise<StoredFile[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: StoredFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.push({
      path: relative(root, full),
      size: (await stat(full)).size,
      sha256: await sha256File(full),
    });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The manifest if it has the shape this version writes, else undefined (a corrupt entry). */
function asManifest(value: unknown): StageManifest | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const m = value as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (m.formatVersion !== 1 || typeof m.key !== 'string' || typeof m.nodeId !== 'string')
    return undefined;
  if (!isObject(m.record) || !isObject(m.summary) || typeof m.durationMs !== 'number')
    return undefined;
  if (!Array.isArray(m.files)) return undefined;
  for (const file of m.files as unknown[]) {
    if (!isObject(file)) return undefined;
    const f = file as Record<string, unknown>;
    if (typeof f.path !== 'string' || typeof f.size !== 'number') return undefined;
    if (f.sha256 !== undefined && typeof f.sha256 !== 'string') return undefined;
    // A path that leaves output/ is not one this store wrote.
    if (f.path.startsWith('/') || f.path.split(/[\\/]/).includes('..')) return undefined;
  }
  return value as StageManifest;
}
