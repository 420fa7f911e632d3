import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { sha256Hex } from '../../canonical-json.ts';
import { CheckpointStore } from '../../checkpoint-store.ts';

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
export class SharedStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  jobDir(submissionId: string): string {
    return join(this.root, 'jobs', submissionId);
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

async function folderDigest(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const parts: string[] = [];
  for (const file of files) {
    parts.push(`${relative(dir, file).split(sep).join('/')}\0${sha256Hex(await readFile(file))}`);
  }
  return sha256Hex(parts.join('\n'));
}
