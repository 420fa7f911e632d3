import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { sha256Hex } from '../canonical-json.ts';

/**
 * What a run's artifacts are made of. Generated or rewritable files (the redacted spec, the
 * report) are copied into the blob folder under their sha256 first, so that a replay of the
 * journal uploads exactly what was logged, whatever happened to the original since.
 */
export async function writeBlob(
  blobsDir: string,
  text: string,
  extension: string,
): Promise<string> {
  await mkdir(blobsDir, { recursive: true });
  const path = join(blobsDir, `${sha256Hex(text)}.${extension}`);
  if (!existsSync(path)) await writeFile(path, text);
  return path;
}

/** A copy of `file` in the blob folder, named by its content. */
export async function copyToBlob(blobsDir: string, file: string): Promise<string> {
  await mkdir(blobsDir, { recursive: true });
  const bytes = await readFile(file);
  const blob = join(blobsDir, `${sha256Hex(bytes)}${extname(file)}`);
  if (!existsSync(blob)) await writeFile(blob, bytes);
  return blob;
}

/** The files a summary's artifact path names: itself, or everything under it when a folder. */
export async function filesUnder(outputDir: string, rel: string): Promise<string[]> {
  const root = resolve(outputDir);
  const path = resolve(root, rel);
  if (path !== root && !path.startsWith(root + sep)) return [];
  if (!existsSync(path)) return [];
  const info = await stat(path);
  if (info.isFile()) return [path];
  if (!info.isDirectory()) return [];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** `yaml` of `experiments/paper.yaml`; `txt` when the name has none. */
export function extensionOf(path: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(path);
  return match?.[1] ?? 'txt';
}
