import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../runner/cli/commands.ts';
import { runCli } from '../../runner/cli/main.ts';
import { tableCommand } from '../../stages/report/table-command.ts';
import { REPORT_SPEC, reportTestPipeline } from './report-pipeline.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp folder with the report spec and a store, and the CLI (with `table`) run in-process. */
export async function makeReportWorkspace() {
  const dir = await mkdtemp(join(tmpdir(), 'dermatune-report-'));
  const spec = join(dir, 'report.yaml');
  await writeFile(spec, REPORT_SPEC);
  const store = join(dir, 'store');
  return {
    dir,
    spec,
    store,
    reportDir: join(store, 'reports', 'report-test'),
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
    async cli(argv: string[]): Promise<CliRun> {
      let stdout = '';
      let stderr = '';
      const code = await runCli(
        argv,
        {
          pipeline: reportTestPipeline,
          version: 'test',
          io: {
            stdout: (t) => {
              stdout += t;
            },
            stderr: (t) => {
              stderr += t;
            },
            env: { DERMATUNE_STORE: store },
            cwd: dir,
            isTTY: false,
          },
        },
        [...commands, tableCommand],
      );
      return { code, stdout, stderr };
    },
  };
}
