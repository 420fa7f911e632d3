import type { CliContext, Command } from '../runner/cli/cli-context.ts';
import { commands as runnerCommands } from '../runner/cli/commands.ts';
import { runCli } from '../runner/cli/main.ts';
import type { Pipeline } from '../runner/pipeline.ts';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as the binary would, with its output captured. */
export async function runCapturedCli(
  argv: string[],
  options: {
    pipeline: Pipeline;
    cwd: string;
    env?: Record<string, string | undefined>;
    extraCommands?: readonly Command[];
    tracking?: CliContext['tracking'];
  },
): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    argv,
    {
      pipeline: options.pipeline,
      version: 'test',
      ...(options.tracking ? { tracking: options.tracking } : {}),
      io: {
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
        env: options.env ?? {},
        cwd: options.cwd,
        isTTY: false,
      },
    },
    [...runnerCommands, ...(options.extraCommands ?? [])],
  );
  return { code, stdout, stderr };
}
