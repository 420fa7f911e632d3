// The dermatune CLI over the benchmark's synthetic pipeline, as a process of its own, so its
// start-up counts the way DVC's does. Like runner/cli/bin.js it turns Node's compile cache on before the
// CLI's modules load.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { commands } = await import('../runner/cli/commands.ts');
const { runCli } = await import('../runner/cli/main.ts');
const { syntheticPipeline } = await import('./synthetic-pipeline.ts');

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
