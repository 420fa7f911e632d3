import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** One file for tracking to upload: where it lies, and where it goes in the run's artifacts. */
export interface ReportArtifact {
  file: string;
  /** Artifact path inside the MLflow run, e.g. `report/plots/plot-bleu.svg`. */
  artifactPath: string;
}

/**
 * The files of a written report (see write-report.ts) as MLflow artifacts under `report/`,
 * for the sweep's parent run. Listing the folder (rather than trusting a list kept elsewhere)
 * uploads exactly what a reader of the folder sees; temporary files are left out.
 */
export async function reportArtifacts(
  reportDir: string,
  prefix = 'report',
): Promise<ReportArtifact[]> {
  const entries = await readdir(reportDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return {
        file: path,
        artifactPath: `${prefix}/${relative(reportDir, path).split('\\').join('/')}`,
      };
    })
    .sort((a, b) =>
      a.artifactPath < b.artifactPath ? -1 : a.artifactPath > b.artifactPath ? 1 : 0,
    );
}
