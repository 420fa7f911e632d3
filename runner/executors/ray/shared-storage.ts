import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { sha256Hex } from '../../canonical-json.ts';
import { CheckpointStore } from '../../checkpoint-store.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { JobCommand, JobPaths, JobStorage } from './job-storage.ts';

/**
 * A folder that the runner and every cluster node see at the same path (NFS, a cluster file
 * system, a bind mount). Layout:
 *
 *   <root>/inputs/<key>/              a stored output a job reads, copied once per key
 *   <root>/shared/<digest>/<name>/    a local folder a job needs (a model), copied once by content
 *   <root>/jobs/<submission id>/      one job: job.json, stage-key, output/
 *   <root>/resume/<key>/              a key's checkpoints (`CheckpointStore`), across resubmits
 *
 * Inputs and shared folders are written under a temporary name and renamed into place, so a
 * folder that exists is complete; concurrent runs at worst copy the same thing twice.
 */
export class SharedStorage implements JobStorage {
  readonly root: string;
  readonly where: string;

  constructor(root: string) {
    this.root = root;
    this.where = root;
  }

  async check(): Promise<Result<void, string>> {
    try {
      await mkdir(join(this.root, 'jobs'), { recursive: true });
      return ok(undefined);
    } catch (error) {
      return fail(
        `the Ray storage folder ${this.root} cannot be written: ${(error as Error).message} (executor.ray.storage)`,
      );
    }
  }

  jobDir(submissionId: string): string {
    return join(this.root, 'jobs', submissionId);
  }

  jobPaths(submissionId: string, key: string): JobPaths {
    const jobDir = this.jobDir(submissionId);
    return { jobDir, outDir: join(jobDir, 'output'), resumeDir: this.resumeDir(key) };
  }

  async putJobFile(jobDir: string, name: string, content: string): Promise<string> {
    await mkdir(join(jobDir, 'output'), { recursive: true });
    await writeFile(join(jobDir, name), content);
    return join(jobDir, name);
  }

  /** The key's resume folder: where every submission of its job checkpoints and resumes. */
  resumeDir(key: string): string {
    return new CheckpointStore(this.root).dir(key);
  }

  async removeResume(key: string): Promise<void> {
    await new CheckpointStore(this.root).remove(key);
  }

  /** A stored stage output, on shared storage under its key. */
  async shareInput(key: string, outputDir: string): Promise<string> {
    return this.#copyOnce(join(this.root, 'inputs', key), outputDir);
  }

  /** A local folder on shared storage, by content; the shared path ends with the same name. */
  async shareFolder(localDir: string): Promise<string> {
    const digest = (await folderDigest(localDir)).slice(0, 20);
    return this.#copyOnce(join(this.root, 'shared', digest, basename(localDir)), localDir);
  }

  hasJob(jobDir: string): Promise<boolean> {
    return exists(jobDir);
  }

  async collect(jobDir: string, key: string, outDir: string): Promise<Result<void, string>> {
    let recorded: string;
    try {
      recorded = (await readFile(join(jobDir, 'stage-key'), 'utf8')).trim();
      await stat(join(jobDir, 'output'));
    } catch {
      return fail(
        `its output is not at ${jobDir} (is executor.ray.storage shared with the cluster?)`,
      );
    }
    if (recorded !== key) {
      return fail(
        `it wrote the output of ${recorded.slice(0, 12)}, not of ${key.slice(0, 12)}; not adopted`,
      );
    }
    await cp(join(jobDir, 'output'), outDir, { recursive: true });
    return ok(undefined);
  }

  async discardJob(jobDir: string): Promise<void> {
    await rm(jobDir, { recursive: true, force: true });
  }

  async jobCommand(command: string): Promise<JobCommand> {
    return { entrypoint: command, code: [], requirements: [] };
  }

  async #copyOnce(target: string, source: string): Promise<string> {
    if (await exists(target)) return target;
    const temporary = `${target}.tmp-${randomBytes(4).toString('hex')}`;
    await mkdir(join(target, '..'), { recursive: true });
    await cp(source, temporary, { recursive: true });
    try {
      await rename(temporary, target);
    } catch (error) {
      // Another run put the same content there first.
      await rm(temporary, { recursive: true, force: true });
      if (!(await exists(target))) throw error;
    }
    return target;
  }
}

/** Whether a path exists (a folder on shared storage, a job's output). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** sha256 over a folder's files (relative path and content digest of each, sorted). */
export async function folderDigest(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const file of await listFiles(dir)) {
    parts.push(`${file}\0${sha256Hex(await readFile(join(dir, file)))}`);
  }
  return sha256Hex(parts.join('\n'));
}

/** A folder's files, as sorted `/`-separated paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}
