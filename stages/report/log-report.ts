import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, sha256Hex } from '../../runner/canonical-json.ts';
import { createTracking } from '../../runner/tracking/create-tracking.ts';
import { reportArtifacts } from './report-artifacts.ts';

export type ReportLogOutcome =
  | { state: 'logged'; files: number; pending: number }
  | { state: 'unchanged' }
  | { state: 'no-tracked-sweep' }
  | { state: 'tracking-unavailable'; message: string };

/** Kept in the report folder (dot files are not uploaded): what was last sent to MLflow. */
const MARKER = '.tracked-digest';

/**
 * Uploads a written report (table, plots, HTML) to the sweep's parent run in MLflow, through
 * the same journal as every other tracking call. A report identical to the one last logged is
 * not sent again, so re-running `dermatune table` on an unchanged sweep starts no server.
 */
export async function logReportToTracking(options: {
  storeDir: string;
  sweepId: string;
  reportDir: string;
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
}): Promise<ReportLogOutcome> {
  const files = await reportArtifacts(options.reportDir);
  const contents = await Promise.all(
    files.map(async (f) => ({ path: f.artifactPath, sha256: sha256Hex(await readFile(f.file)) })),
  );
  const digest = sha256Hex(canonicalJson({ sweepId: options.sweepId, contents }));
  const marker = join(options.reportDir, MARKER);
  if ((await readFile(marker, 'utf8').catch(() => '')) === digest) return { state: 'unchanged' };
  const tracking = await createTracking({
    storeDir: options.storeDir,
    env: options.env,
    entryPoint: 'dermatune table',
    log: options.log,
  });
  if (!tracking.ok) return { state: 'tracking-unavailable', message: tracking.error.message };
  const logged = await tracking.value.logSweepFiles(options.sweepId, files);
  const closed = await tracking.value.close();
  if (!logged) return { state: 'no-tracked-sweep' };
  // Journalled even when the server was away: `sync` or the next run sends the rest.
  await writeFile(marker, digest);
  return { state: 'logged', files: files.length, pending: closed.pending };
}
