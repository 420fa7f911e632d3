import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import type { MlflowTag } from './mlflow-types.ts';

/**
 * MLflow's own source tags, so the UI's "Source", "Version" and "User" columns are filled:
 * the command that ran, and the git commit and branch of the working tree it ran in.
 */
export async function sourceTags(entryPoint: string, cwd: string): Promise<MlflowTag[]> {
  const [commit, branch, dirty] = await Promise.all([
    git(['rev-parse', 'HEAD'], cwd),
    git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd),
    git(['status', '--porcelain', '--untracked-files=no'], cwd),
  ]);
  const tags: MlflowTag[] = [
    { key: 'mlflow.source.name', value: entryPoint },
    { key: 'mlflow.source.type', value: 'LOCAL' },
    { key: 'mlflow.user', value: currentUser() },
  ];
  if (commit) tags.push({ key: 'mlflow.source.git.commit', value: commit });
  if (branch) tags.push({ key: 'mlflow.source.git.branch', value: branch });
  if (dirty !== undefined) {
    tags.push({ key: 'dermatune.git.dirty', value: dirty === '' ? 'false' : 'true' });
  }
  return tags;
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

function git(args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 5_000 }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim());
    });
  });
}
