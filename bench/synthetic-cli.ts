// The dermatune CLI over the benchmark's synthetic pipeline, as a process of its own, so its
// start-up counts the way DVC's does.
import { commands } from '../runner/cli/commands.ts';
import { runCli } from '../runner/cli/main.ts';
import { syntheticPipeline } from './synthetic-pipeline.ts';

process.exitCode = await runCli(
  process.argv.slice(2),
  {
    pipeline: syntheticPipeline(11),
    version: 'bench',
    io: {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      env: process.env,
      cwd: process.cwd(),
      isTTY: false,
    },
  },
  commands,
);
