import lockfile from 'proper-lockfile';

/**
 * A cross-process lock on one resource (a venv, a model folder), held in `<path>.lock`.
 *
 * proper-lockfile keeps the locks a process holds in a table keyed by the path it is given,
 * not by `lockfilePath`. Two locks of one process given the same path (say the models folder,
 * for the stand-in's build and the encoder's export running side by side) overwrite each
 * other's entry, and releasing one then removes the other's lock file ("Lock is already
 * released" when the other lets go). So every lock is taken on its own resource's path, which
 * need not exist yet (`realpath: false`).
 */
export type ResourceLockOptions = Omit<lockfile.LockOptions, 'lockfilePath' | 'realpath'>;

export function lockResource(
  path: string,
  options: ResourceLockOptions = {},
): Promise<() => Promise<void>> {
  return lockfile.lock(path, { ...options, lockfilePath: `${path}.lock`, realpath: false });
}
