import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isProcessAlive } from '../../runner/process-alive.ts';
import { metricPlots, renderPlotSvg } from './metric-plots.ts';
import { renderReportHtml } from './report-html.ts';
import { pickSampleCases } from './sample-cases.ts';
import { renderStatisticsMarkdown } from './statistics-render.ts';
import { svgToPng } from './svg-to-png.ts';
import type { SampleSources } from './sweep-results.ts';
import type { Table1 } from './table-1.ts';
import { renderTable1Csv, renderTable1Markdown } from './table-render.ts';

/**
 * Every file of a sweep's report, written into one folder:
 *
 *   table.md, table.csv, table.json   Table 1 (the JSON also has the extra metrics and notes)
 *   comparison.md, comparison.json    intervals, replicate spread, verbosity, paired comparison
 *   plots/plot-<metric>.svg|.png      each metric against training images
 *   report.html                       self-contained page: table, plots, sample cases
 *
 * Each file is written aside and renamed, so a reader (or an MLflow upload) never sees half a file.
 */
export interface WrittenReport {
  dir: string;
  /** Paths relative to `dir`, in a stable order. */
  files: string[];
  /** Why PNGs are missing, when they are. */
  pngSkipped?: string;
}

export const REPORT_FILE = 'report.html';

export async function writeSweepReport(
  table: Table1,
  options: {
    dir: string;
    sweepId: string;
    sources: ReadonlyMap<string, SampleSources>;
    sampleCount?: number;
  },
): Promise<WrittenReport> {
  const { dir } = options;
  await mkdir(join(dir, 'plots'), { recursive: true });
  await removeDeadTemps(dir);
  const files: string[] = [];
  const put = async (name: string, content: string | Uint8Array) => {
    const temp = join(dir, `.${name.replaceAll('/', '_')}.${process.pid}.tmp`);
    await writeFile(temp, content);
    await rename(temp, join(dir, name));
    files.push(name);
  };
  await put('table.md', `${renderTable1Markdown(table)}${renderStatisticsMarkdown(table)}`);
  await put('table.csv', renderTable1Csv(table));
  await put('table.json', `${JSON.stringify(table, null, 2)}\n`);
  if (table.statistics) {
    await put(
      'comparison.md',
      `## ${table.spec}: intervals and comparison\n${renderStatisticsMarkdown(table)}`,
    );
    await put('comparison.json', `${JSON.stringify(table.statistics, null, 2)}\n`);
  }

  const plots = metricPlots(table).map((plot) => ({ plot, svg: renderPlotSvg(plot) }));
  let pngSkipped: string | undefined;
  for (const { plot, svg } of plots) {
    await put(`plots/${plot.id}.svg`, svg);
    if (pngSkipped) continue;
    const png = await svgToPng(svg);
    if (png.ok) await put(`plots/${plot.id}.png`, png.value);
    else pngSkipped = png.error.message;
  }

  const samples = await pickSampleCases(table.rows, options.sources, options.sampleCount ?? 3);
  const images = new Map<string, string>();
  for (const sample of samples) {
    if (!sample.image || images.has(sample.image)) continue;
    const uri = await imageDataUri(sample.image);
    if (uri) images.set(sample.image, uri);
  }
  await put(
    REPORT_FILE,
    renderReportHtml({
      table,
      sweepId: options.sweepId,
      plots: plots.map(({ plot, svg }) => ({ id: plot.id, title: plot.title, svg })),
      samples,
      images,
    }),
  );
  return { dir, files, ...(pngSkipped ? { pngSkipped } : {}) };
}

/**
 * Temp files of a `table` that was killed mid-write. Each carries its writer's pid, so the
 * temp files of a `table` running now beside this one are left alone.
 */
async function removeDeadTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = /^\..+\.(\d+)\.tmp$/.exec(name)?.[1];
    const legacy = /^\.[^.].*\.tmp$/.test(name) && !/\.\d+\.tmp$/.test(name);
    if ((pid && !isProcessAlive(Number(pid))) || legacy) await rm(join(dir, name), { force: true });
  }
}

const IMAGE_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

/** A sample's image may be gone (the store was collected); the page then says so. */
async function imageDataUri(path: string): Promise<string | undefined> {
  const type = IMAGE_TYPES[extname(path).toLowerCase()];
  if (!type) return undefined;
  try {
    return `data:${type};base64,${(await readFile(path)).toString('base64')}`;
  } catch {
    return undefined;
  }
}
