import { fileURLToPath } from 'node:url';

/** The repository root: where `package.json`, `stages/` and `.dermatune/` live. */
export function projectRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
}
