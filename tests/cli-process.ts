import { commands } from '../runner/cli/commands.ts';
import { processInterrupts } from '../runner/cli/interrupts.ts';
import { runCli } from '../runner/cli/main.ts';
import type { Pipeline } from '../runner/pipeline.ts';

/**
 * The dermatune CLI over a test pipeline as a real process, for the tests that SIGKILL or
 * signal it: this process's arguments, standard streams, environment and signals.
 */
export async function runPipelineCliProcess(pipeline: Pipeline): Promise<void> {
  process.exitCode = await runCli(
    process.argv.slice(2),
    {
      pipeline,
      version: 'test',
      io: {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        env: process.env,
        cwd: process.cwd(),
        isTTY: process.stdout.isTTY === true,
      },
      interrupts: () => processInterrupts(() => {}),
    },
    commands,
  );
}
