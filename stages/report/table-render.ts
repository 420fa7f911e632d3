import {
  describeScoring,
  formatPercent,
  MISSING,
  PAPER_SCORING,
  paperValue,
  type Table1,
  type Table1Row,
} from './table-1.ts';
import { marksLegend, significanceMark } from './table-statistics.ts';

/** Table 1 for the terminal: aligned columns, `*` after the best value of each column. */
export function renderTable1Text(table: Table1): string {
  // "paper" alone keeps the compared table within a terminal's width; its place says which metric.
  const header = headerCells(table).map((h) => (h.endsWith(' (paper)') ? 'paper' : h));
  const body = table.rows.map((row) =>
    cells(table, row, (value, best) => `${formatPercent(value)}${best ? '*' : ' '}`),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) =>
        i === 0 || (table.paper && i === 1) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    `${table.spec}: Table 1 (percent; * best in column)`,
    '',
    line(header),
    ...body.map(line),
    '',
    ...footer(table).map((l) => l.replaceAll('`', '')),
    '',
  ].join('\n');
}

/** Table 1 in Markdown: the best value per column in bold, as the paper prints it. */
export function renderTable1Markdown(table: Table1): string {
  const header = headerCells(table);
  const body = table.rows.map((row) =>
    cells(table, row, (value, best) =>
      best ? `**${formatPercent(value)}**` : formatPercent(value),
    ),
  );
  const align = header.map((_, i) => (i === 0 || (table.paper && i === 1) ? '---' : '---:'));
  const md = (r: string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const extra = [
    '',
    '### Beyond the paper',
    '',
    md(['Model-Data', ...table.extraColumns.map((c) => c.title)]),
    md(['---', ...table.extraColumns.map(() => '---:')]),
    ...table.rows.map((row) =>
      md([row.label, ...table.extraColumns.map((c) => formatExtra(row.extra[c.id]))]),
    ),
    '',
    'Percentages except sacreBLEU (0-100 as sacreBLEU reports it) and answer words (mean words per answer).',
  ];
  return [
    `## ${table.spec}: Table 1`,
    '',
    'Percentages; **bold** is the best value in its column.',
    '',
    md(header),
    md(align),
    ...body.map(md),
    '',
    ...footer(table).map((l) => (l.startsWith('  ') ? `- ${l.trim()}` : l)),
    ...extra,
    '',
  ].join('\n');
}

/**
 * Table 1 as CSV (RFC 4180) for spreadsheets: plain numbers with two decimals, empty where
 * a value is missing, and the variant's settings as their own columns.
 */
export function renderTable1Csv(table: Table1): string {
  const header = [
    'model_data',
    'variant',
    'supervision',
    'train_size',
    'train_images',
    'baseline',
    ...table.columns.map((c) => c.id),
    ...(table.paper ? ['paper_row', ...table.columns.map((c) => `paper_${c.id}`)] : []),
  ];
  const rows = table.rows.map((row) => [
    row.label,
    row.variant,
    row.supervision ?? '',
    row.trainSize === undefined ? '' : String(row.trainSize),
    row.trainImages === undefined ? '' : String(row.trainImages),
    String(row.baseline),
    ...table.columns.map((c) => {
      const value = row.values[c.id];
      return value === undefined ? '' : value.toFixed(2);
    }),
    ...(table.paper
      ? [
          row.paper?.label ?? '',
          ...table.columns.map((c) => (row.paper ? paperValue(row.paper, c.id).toFixed(2) : '')),
        ]
      : []),
  ]);
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function formatExtra(value: number | undefined): string {
  return value === undefined ? MISSING : value.toFixed(2);
}

function headerCells(table: Table1): string[] {
  return [
    'Model-Data',
    ...(table.paper ? ['Paper row'] : []),
    ...table.columns.flatMap((c) => (table.paper ? [c.title, `${c.title} (paper)`] : [c.title])),
  ];
}

function cells(
  table: Table1,
  row: Table1Row,
  format: (value: number | undefined, best: boolean) => string,
): string[] {
  return [
    row.label,
    ...(table.paper ? [row.paper?.label ?? MISSING] : []),
    ...table.columns.flatMap((c) => {
      const ours = `${format(row.values[c.id], row.best[c.id])}${significanceMark(table, row.variant, c.id)}`;
      if (!table.paper) return [ours];
      return [ours, row.paper ? paperValue(row.paper, c.id).toFixed(2) : MISSING];
    }),
  ];
}

/** What a reader needs to read the numbers right: which models scored them, and every gap. */
export function footer(table: Table1): string[] {
  const lines: string[] = [];
  if (table.scoring.length === 0) lines.push('Scored with: nothing evaluated yet.');
  for (const setup of table.scoring) lines.push(`Scored with: ${describeScoring(setup)}.`);
  lines.push(`${PAPER_SCORING}.`);
  const legend = marksLegend(table);
  if (legend) lines.push(legend);
  if (table.paper) {
    lines.push(`Paper: ${table.paper.citation}.`);
    if (table.paper.unmatched.length > 0) {
      lines.push(
        `Published rows with no counterpart in this sweep: ${table.paper.unmatched.map((p) => p.label).join(', ')}.`,
      );
    }
  }
  if (table.notes.length > 0) {
    lines.push(`Notes (${MISSING} marks a missing value):`);
    for (const note of table.notes) lines.push(`  ${note}`);
  }
  return lines;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
