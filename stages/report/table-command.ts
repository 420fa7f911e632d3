import { join, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { type CommandCode, EXIT_OK, EXIT_USAGE } from '../../runner/cli/cli-context.ts';
import { loadPlan, openStore, specOptions } from '../../runner/cli/common.ts';
import { groupReplicates } from './replicate-groups.ts';
import { renderStatisticsText } from './statistics-render.ts';
import { collectSweepResults } from './sweep-results.ts';
import { buildTable1 } from './table-1.ts';
import { renderTable1Text } from './table-render.ts';
import { tableStatistics } from './table-statistics.ts';
import { REPORT_FILE, writeSweepReport } from './write-report.ts';

/**
 * `dermatune table <spec>`: the paper's Table 1 for a sweep from what the store holds, in the
 * terminal, and written with the plots and the HTML report into `<store>/reports/<spec name>/`.
 * Variants not evaluated yet show "—" with a note; the command never runs a stage.
 */
export const tableCommand: CommandCode = {
  usage:
    'dermatune table <spec.yaml> [--set key=value]... [--only variant]... [--against variant] [--compare-paper] [--out dir] [--json]',
  options: {
    ...specOptions,
    against: {
      type: 'string',
      description:
        'the variant every other is tested against, paired over the same questions (default: the untuned baseline)',
    },
    'compare-paper': {
      type: 'boolean',
      description: "show the paper's published Table 1 values beside ours",
    },
    out: {
      type: 'string',
      description: 'folder for the report files (default: <store>/reports/<spec name>)',
    },
    'no-tracking': {
      type: 'boolean',
      description: 'do not attach the report to the sweep in MLflow',
    },
    json: {
      type: 'boolean',
      description:
        'print the table (rows, values, best marks, notes) and the written files as JSON',
    },
  },
  positionals: [{ name: 'spec', required: true }],
  async run(args, ctx) {
    const plan = await loadPlan(args, ctx);
    if (!plan) return EXIT_USAGE;
    const store = openStore(args, ctx);
    if (!store) return EXIT_USAGE;
    const grouped = groupReplicates(await collectSweepResults(plan, store));
    const results = grouped.results;
    const against = args.values.against;
    if (typeof against === 'string' && !results.some((r) => r.variant === against)) {
      const names = results.map((r) => r.variant);
      ctx.io.stderr(
        `--against ${against}: no such variant; did you mean "${closest(against, names)}"? (variants: ${names.join(', ')})\n`,
      );
      return EXIT_USAGE;
    }
    const table = buildTable1(plan.specName, results, {
      comparePaper: args.values['compare-paper'] === true,
    });
    table.statistics = await tableStatistics(table, grouped, {
      ...(typeof against === 'string' && { against }),
    });
    const out = args.values.out;
    const dir =
      typeof out === 'string'
        ? resolve(ctx.io.cwd, out)
        : join(store.root, 'reports', plan.specName);
    const sources = new Map(
      results.flatMap((r) => (r.sources ? [[r.variant, r.sources] as const] : [])),
    );
    const written = await writeSweepReport(table, { dir, sweepId: plan.sweepId, sources });
    const tracked =
      args.values['no-tracking'] === true
        ? undefined
        : await (await import('./log-report.ts')).logReportToTracking({
            storeDir: store.root,
            sweepId: plan.sweepId,
            reportDir: dir,
            env: ctx.io.env,
            log: (line) => ctx.io.stderr(`${line}\n`),
          });
    if (args.values.json) {
      ctx.io.stdout(`${JSON.stringify({ table, report: written }, null, 2)}\n`);
      return EXIT_OK;
    }
    ctx.io.stdout(renderTable1Text(table));
    ctx.io.stdout(renderStatisticsText(table));
    const plots = written.files.filter((f) => f.startsWith('plots/'));
    ctx.io.stdout(
      `\nWritten to ${dir}: table.md, table.csv, table.json, ${written.files.includes('comparison.md') ? 'comparison.md, comparison.json, ' : ''}${plots.length} plot file(s) under plots/, ${REPORT_FILE}\n`,
    );
    if (written.pngSkipped) ctx.io.stderr(`${written.pngSkipped}\n`);
    if (tracked?.state === 'logged') {
      ctx.io.stdout(
        `Attached to the sweep's MLflow run (${tracked.files} files); open it with \`npm run ui\`.\n`,
      );
    }
    return EXIT_OK;
  },
};
