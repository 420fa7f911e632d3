import { readFileSync } from 'node:fs';
import { studyCommands } from '../../stages/commands.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { commands } from './commands.ts';
import { processInterrupts } from './interrupts.ts';
import { runCli } from './main.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

try {
  process.exitCode = await runCli(
    process.argv.slice(2),
    {
      pipeline: studyPipeline,
      version,
      io: {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        env: process.env,
        cwd: process.cwd(),
        isTTY: process.stdout.isTTY === true,
      },
      // Loaded by the one command that tracks: the MLflow client and server are no part of the
      // start-up of validate, plan or status.
      tracking: async (sweep, io, pipeline) =>
        (await import('../tracking/run-tracking.ts')).trackingForRun(sweep, io, pipeline),
      interrupts: () =>
        processInterrupts((signal) =>
          process.stderr.write(
            `\n${signal}: stopping; running stages finish cleanly (again to exit at once)\n`,
          ),
        ),
    },
    [...commands, ...studyCommands],
  );
} catch (error) {
  // Only bugs reach here: say so, with the stack, so it can be reported.
  process.stderr.write(
    `dermatune crashed (this is a bug): ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exitCode = 70;
}
