import { join } from 'node:path';
import { projectRoot } from '../runner/project-root.ts';
import { ensurePythonEnv } from '../runner/python-env.ts';

/**
 * Before any test: the project's Python environment with every part's pinned requirements
 * (model worker, MLflow, encoder export), installed once and in order. Test files then find it
 * ready instead of racing to install it under their own timeouts. Idempotent: on a machine
 * where it exists this reads one stamp file.
 */
export default async function setup(): Promise<void> {
  const root = projectRoot();
  const started = Date.now();
  const env = await ensurePythonEnv(
    [
      join(root, 'stages', 'model-worker', 'requirements.txt'),
      join(root, 'runner', 'tracking', 'requirements.txt'),
      join(root, 'stages', 'evaluate', 'encoders', 'requirements.txt'),
    ],
    (line) => {
      if (/^(creating|installing)/.test(line)) process.stderr.write(`[setup] ${line}\n`);
    },
  );
  if (!env.ok) throw new Error(`the Python environment could not be set up: ${env.error.message}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (Date.now() - started > 2000)
    process.stderr.write(`[setup] Python environment ready in ${seconds} s\n`);
}
