import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliContext } from '../../runner/cli/cli-context.ts';
import { studyCommands } from '../../stages/commands.ts';
import { type CapturedRun, runCapturedCli } from '../cli-capture.ts';
import { REPORT_SPEC, reportTestPipeline } from './report-pipeline.ts';

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
    cli(
      argv: string[],
      options: { env?: Record<string, string>; tracking?: CliContext['tracking'] } = {},
    ): Promise<CapturedRun> {
      return runCapturedCli(argv, {
        pipeline: reportTestPipeline,
        cwd: dir,
        env: { DERMATUNE_STORE: store, ...options.env },
        extraCommands: studyCommands.filter((c) => c.name === 'table'),
        ...(options.tracking ? { tracking: options.tracking } : {}),
      });
    },
  };
}
