import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pipeline } from '../../runner/pipeline.ts';
import { type CapturedRun, runCapturedCli } from '../cli-capture.ts';
import { testPipeline } from './test-pipeline.ts';

/** A temp folder with a store, a calls file, and a way to run the CLI in-process. */
export async function makeWorkspace() {
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-test-'));
  const callsFile = join(dir, 'calls.txt');
  await writeFile(callsFile, '');
  return {
    dir,
    store: join(dir, 'store'),
    async write(name: string, text: string) {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    },
    async calls(): Promise<string[]> {
      return (await readFile(callsFile, 'utf8')).split('\n').filter(Boolean);
    },
    async resetCalls() {
      await writeFile(callsFile, '');
    },
    async cli(argv: string[], pipeline: Pipeline = testPipeline): Promise<CapturedRun> {
      const previous = process.env.TEST_CALLS_FILE;
      process.env.TEST_CALLS_FILE = callsFile;
      try {
        return await runCapturedCli(argv, {
          pipeline,
          cwd: dir,
          env: { DERMATUNE_STORE: join(dir, 'store') },
        });
      } finally {
        process.env.TEST_CALLS_FILE = previous;
      }
    },
  };
}

export const SWEEP_SPEC = `name: scaling
data:
  items: 4
model:
  factor: 2
sweep:
  name: "f{model.factor}"
  model.factor: [2, 3]
`;
