import { join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import { ensurePythonEnv } from '../../runner/python-env.ts';

/** The pinned reference packages (evaluate, sacrebleu, rouge_score, nltk). */
export const PARITY_REQUIREMENTS = join(projectRoot(), 'scripts', 'parity', 'requirements.txt');

/**
 * The shared venv's interpreter with the reference packages installed. Throws on failure:
 * scripts and the benchmark cannot do anything useful without the references.
 */
export async function parityPython(log: (line: string) => void = () => {}): Promise<string> {
  const env = await ensurePythonEnv([PARITY_REQUIREMENTS], log);
  if (!env.ok) throw new Error(`${env.error.reason}: ${env.error.message}`);
  return env.value.python;
}
