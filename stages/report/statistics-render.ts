import { escapeXml as escapeHtml } from './metric-plots.ts';
import { MISSING, TABLE_1_COLUMNS, type Table1 } from './table-1.ts';
import type { ComparisonCell, RowStatistics } from './table-statistics.ts';

/**
 * The statistics beside Table 1 as three small grids (intervals, the comparison, verbosity),
 * built once and written as terminal text, Markdown or HTML, so the three never disagree.
 */
export interface StatisticsGrid {
  id: 'intervals' | 'comparison' | 'verbosity';
  title: string;
  caption: string;
  header: string[];
  rows: string[][];
}

export function statisticsGrids(table: Table1): StatisticsGrid[] {
  const statistics = table.statistics;
  if (!statistics || statistics.rows.length === 0) return [];
  const questions = [...new Set(statistics.rows.map((r) => r.questions))].join('/');
  const grids: StatisticsGrid[] = [
    {
      id: 'intervals',
      title: 'Intervals',
      caption: `Percent, with the 95% interval in brackets: percentile bootstrap over the ${questions} test questions (${statistics.resamples.toLocaleString('en')} resamples, seed ${statistics.seed}; BLEU recomputed at corpus level on each). n counts the replicates behind a row; ± is their standard deviation, and the interval pools their answers per question.`,
      header: ['Model-Data', 'n', ...TABLE_1_COLUMNS.map((c) => c.title)],
      rows: statistics.rows.map((row) => {
        const values = table.rows.find((r) => r.variant === row.variant)?.values;
        return [
          row.label,
          String(row.n),
          ...TABLE_1_COLUMNS.map((c) => intervalCell(values?.[c.id], row, c.id)),
        ];
      }),
    },
  ];
  const reference = statistics.reference;
  if (reference && statistics.comparison) {
    grids.push({
      id: 'comparison',
      title: `Against ${reference.label}`,
      caption: `Row minus ${reference.label} in percentage points, its paired 95% bootstrap interval, and the p-value after Holm's correction over the ${statistics.comparison.family} comparisons of this table; ▲/▼ where that p <= ${statistics.comparison.alpha}.`,
      header: ['Model-Data', ...TABLE_1_COLUMNS.map((c) => c.title)],
      rows: statistics.rows
        .filter((r) => r.comparison)
        .map((row) => [
          row.label,
          ...TABLE_1_COLUMNS.map((c) => comparisonCell(row.comparison?.[c.id])),
        ]),
    });
  }
  grids.push({
    id: 'verbosity',
    title: 'Verbosity',
    caption:
      'Length ratio: mean answer words over mean reference words. Cut: share of answers longer than their reference. The metrics are recomputed on answers cut to their reference length in words: a gain that survives the cut is not length alone.',
    header: [
      'Model-Data',
      'Length ratio',
      'Cut',
      'BLEU (cut)',
      'ROUGE-1 (cut)',
      'ROUGE-L (cut)',
      'BERTScore (cut)',
    ],
    rows: statistics.rows.map((row) => [
      row.label,
      row.verbosity.lengthRatio === undefined ? MISSING : row.verbosity.lengthRatio.toFixed(2),
      fixed(row.verbosity.truncatedShare, 1),
      fixed(row.verbosity.controlled.bleu, 2),
      fixed(row.verbosity.controlled.rouge1, 2),
      fixed(row.verbosity.controlled.rougeL, 2),
      fixed(row.verbosity.controlled.bertscore, 2),
    ]),
  });
  return grids;
}

export function renderStatisticsText(table: Table1): string {
  const grids = statisticsGrids(table);
  if (grids.length === 0) return '';
  const blocks = grids.map((grid) => {
    const widths = grid.header.map((h, i) =>
      Math.max(h.length, ...grid.rows.map((r) => (r[i] ?? '').length)),
    );
    const line = (r: string[]) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    return [`${grid.title}: ${grid.caption}`, '', line(grid.header), ...grid.rows.map(line)].join(
      '\n',
    );
  });
  return `\n${blocks.join('\n\n')}\n${notes(table)
    .map((n) => `  ${n}\n`)
    .join('')}`;
}

export function renderStatisticsMarkdown(table: Table1): string {
  const grids = statisticsGrids(table);
  if (grids.length === 0) return '';
  const md = (r: string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const blocks = grids.map((grid) =>
    [
      `### ${grid.title}`,
      '',
      grid.caption,
      '',
      md(grid.header),
      md(grid.header.map((_, i) => (i === 0 ? '---' : '---:'))),
      ...grid.rows.map(md),
    ].join('\n'),
  );
  return `\n${blocks.join('\n\n')}\n${notes(table)
    .map((n) => `\n- ${n}`)
    .join('')}\n`;
}

export function renderStatisticsHtml(table: Table1): string {
  const grids = statisticsGrids(table);
  if (grids.length === 0) return '';
  const blocks = grids.map(
    (grid) => `<h3>${escapeHtml(grid.title)}</h3>
<p>${escapeHtml(grid.caption)}</p>
<table class="statistics" id="statistics-${grid.id}">
<thead><tr>${grid.header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${grid.rows
  .map(
    (r) =>
      `<tr><th scope="row">${escapeHtml(r[0] ?? '')}</th>${r
        .slice(1)
        .map((c) => `<td>${escapeHtml(c)}</td>`)
        .join('')}</tr>`,
  )
  .join('\n')}
</tbody>
</table>`,
  );
  return `<section id="statistics">
<h2>Intervals and comparison</h2>
${blocks.join('\n')}
<div class="notes">${notes(table)
    .map((n) => `<p class="note">${escapeHtml(n.replaceAll('`', ''))}</p>`)
    .join('')}</div>
</section>`;
}

function notes(table: Table1): string[] {
  return table.statistics?.notes ?? [];
}

function intervalCell(
  value: number | undefined,
  row: RowStatistics,
  column: keyof RowStatistics['intervals'],
): string {
  if (value === undefined) return MISSING;
  const interval = row.intervals[column];
  const sd = row.sd[column];
  const spread = sd === undefined ? '' : ` ±${sd.toFixed(2)}`;
  const bracket = interval ? ` [${interval.low.toFixed(1)}, ${interval.high.toFixed(1)}]` : '';
  return `${value.toFixed(2)}${spread}${bracket}`;
}

function comparisonCell(cell: ComparisonCell | undefined): string {
  if (!cell) return MISSING;
  const mark = cell.direction === 'higher' ? ' ▲' : cell.direction === 'lower' ? ' ▼' : '';
  return `${signed(cell.difference, 2)} [${signed(cell.low, 1)}, ${signed(cell.high, 1)}] p=${formatP(cell.pHolm)}${mark}`;
}

export function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

function signed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return value > 0 && text !== (0).toFixed(digits) ? `+${text}` : text;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? MISSING : value.toFixed(digits);
}
