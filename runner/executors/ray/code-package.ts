import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { zipSync } from 'fflate';
import { sha256Hex } from '../../canonical-json.ts';

/**
 * A folder as a Ray runtime-env package: a zip of the chosen files, with paths relative to the
 * folder (Ray unpacks a `gcs://` working_dir as is), named `_ray_pkg_<hash>.zip` after its
 * content, so the same code is uploaded once per cluster and a changed file gets a new name.
 */
export interface CodePackage {
  uri: string;
  zip: Uint8Array;
  files: string[];
}

// Fixed timestamps keep the zip's bytes a function of the content alone.
const ZIP_TIME = new Date('2000-01-01T00:00:00Z');

/** `extra` folders are merged in at the same level (the S3 stager beside the worker). */
export async function packageFolder(
  dir: string,
  include: (relativePath: string) => boolean,
  extra: readonly { dir: string; include: (relativePath: string) => boolean }[] = [],
): Promise<CodePackage> {
  const sources = new Map<string, string>();
  for (const part of [{ dir, include }, ...extra]) {
    for (const path of (await listFiles(part.dir)).filter(part.include)) {
      sources.set(path, join(part.dir, path));
    }
  }
  const files = [...sources.keys()].sort();
  const entries: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const digestParts: string[] = [];
  for (const path of files) {
    const content = await readFile(sources.get(path) as string);
    entries[path] = [new Uint8Array(content), { mtime: ZIP_TIME }];
    digestParts.push(`${path}\0${sha256Hex(content)}`);
  }
  const zip = zipSync(entries, { level: 6 });
  const hash = sha256Hex(digestParts.join('\n')).slice(0, 32);
  return { uri: `gcs://_ray_pkg_${hash}.zip`, zip, files };
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
}
