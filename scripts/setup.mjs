// First-use set-up for `npm start` and `npm test` on a fresh clone: installs the npm
// dependencies (which bring Node 24 for the npm scripts) when they are missing or stale.
// Plain JavaScript on purpose: it runs on whatever Node the machine has (20 here), before
// node_modules exists. Python, models and the MLflow server are set up by the code that
// needs them, on first use, idempotently.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installedLock = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale =
  !existsSync(installedLock) ||
  !existsSync(join(root, 'node_modules', '.bin', 'node')) ||
  statSync(lock).mtimeMs > statSync(installedLock).mtimeMs;

if (stale) {
  console.error('dermatune: installing npm dependencies (first use)...');
  // `npm install` rather than `npm ci`: npm 11 refuses `ci` on this lock file because vite's
  // Windows-only optional dependency is (correctly) absent from it. The lock is still honoured.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
}
