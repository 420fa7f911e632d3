import { escapeXml as escapeHtml } from './metric-plots.ts';
import type { SampleCase } from './sample-cases.ts';
import { renderStatisticsHtml } from './statistics-render.ts';
import { formatPercent, MISSING, paperValue, type Table1 } from './table-1.ts';
import { footer, formatExtra } from './table-render.ts';
import { significanceMark } from './table-statistics.ts';

/**
 * The sweep's report as one self-contained HTML page: Table 1, the plots (inline SVG) and
 * the sample cases (images as data URIs), no script and no external resource, so it can be
 * mailed, attached to an MLflow run, or opened from the store as it is.
 */
export interface ReportPage {
  table: Table1;
  sweepId: string;
  plots: { id: string; title: string; svg: string }[];
  samples: SampleCase[];
  /** Sample image path to a data URI; a missing entry shows "image not available". */
  images: ReadonlyMap<string, string>;
}

export function renderReportHtml(page: ReportPage): string {
  const { table } = page;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${table.spec}: dermatune report`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(table.spec)}</h1>
<p class="sweep">Sweep <code>${escapeHtml(page.sweepId)}</code>: ${table.rows.length} variant(s), ${table.rows.filter((r) => r.evaluated).length} evaluated.</p>
</header>
<section id="table-1">
<h2>Table 1</h2>
<p>Percentages; <strong>bold</strong> is the best value in its column${table.paper ? '; (paper) columns are the published values' : ''}.</p>
${tableHtml(table)}
<div class="notes">${footer(table)
    .map(
      (line) =>
        `<p${line.startsWith('  ') ? ' class="note"' : ''}>${escapeHtml(line.trim().replaceAll('`', ''))}</p>`,
    )
    .join('\n')}</div>
</section>
${renderStatisticsHtml(table)}
<section id="plots">
<h2>Metrics by training images</h2>
<div class="plots">
${page.plots.map((p) => `<figure id="${escapeHtml(p.id)}">${p.svg}<figcaption>${escapeHtml(p.title)}</figcaption></figure>`).join('\n')}
</div>
</section>
<section id="beyond">
<h2>Beyond the paper</h2>
${extraTableHtml(table)}
<p>Percentages except sacreBLEU (0-100, as sacreBLEU reports it) and answer words (mean words per answer).</p>
</section>
<section id="samples">
<h2>Sample cases</h2>
${page.samples.length === 0 ? '<p>No evaluated variant yet, so no answers to show.</p>' : page.samples.map((s) => sampleHtml(s, page.images)).join('\n')}
</section>
</body>
</html>
`;
}

function tableHtml(table: Table1): string {
  const head = [
    '<th scope="col">Model-Data</th>',
    ...(table.paper ? ['<th scope="col" class="label">Paper row</th>'] : []),
    ...table.columns.flatMap((c) => [
      `<th scope="col">${escapeHtml(c.title)}</th>`,
      ...(table.paper ? [`<th scope="col" class="paper">${escapeHtml(c.title)} (paper)</th>`] : []),
    ]),
  ];
  const body = table.rows.map((row) => {
    const cells = [
      `<th scope="row">${escapeHtml(row.label)}</th>`,
      ...(table.paper ? [`<td class="label">${escapeHtml(row.paper?.label ?? MISSING)}</td>`] : []),
      ...table.columns.flatMap((c) => {
        const value = `${formatPercent(row.values[c.id])}${significanceMark(table, row.variant, c.id)}`;
        const ours = row.best[c.id]
          ? `<td class="best"><strong>${value}</strong></td>`
          : `<td${row.values[c.id] === undefined ? ' class="missing"' : ''}>${value}</td>`;
        if (!table.paper) return [ours];
        return [
          ours,
          `<td class="paper">${row.paper ? paperValue(row.paper, c.id).toFixed(2) : MISSING}</td>`,
        ];
      }),
    ];
    return `<tr data-variant="${escapeHtml(row.variant)}"${row.baseline ? ' class="baseline"' : ''}>${cells.join('')}</tr>`;
  });
  return `<table id="table-1-data">\n<thead><tr>${head.join('')}</tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

function extraTableHtml(table: Table1): string {
  const head = [
    '<th scope="col">Model-Data</th>',
    ...table.extraColumns.map((c) => `<th scope="col">${escapeHtml(c.title)}</th>`),
  ];
  const body = table.rows.map(
    (row) =>
      `<tr><th scope="row">${escapeHtml(row.label)}</th>${table.extraColumns.map((c) => `<td>${formatExtra(row.extra[c.id])}</td>`).join('')}</tr>`,
  );
  return `<table class="extra">\n<thead><tr>${head.join('')}</tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

function sampleHtml(sample: SampleCase, images: ReadonlyMap<string, string>): string {
  const uri = sample.image ? images.get(sample.image) : undefined;
  const picture = uri
    ? `<img src="${uri}" alt="${escapeHtml(`test image of ${sample.id}`)}">`
    : '<div class="no-image">image not available</div>';
  const answers = sample.answers.map((a) => {
    const verdict =
      a.correct === undefined
        ? ''
        : a.correct
          ? '<span class="ok">matched the right option</span>'
          : '<span class="wrong">matched a wrong option</span>';
    const rouge =
      a.rougeL === undefined
        ? ''
        : `<span class="score">ROUGE-L ${(a.rougeL * 100).toFixed(1)}</span>`;
    return `<tr><th scope="row">${escapeHtml(a.label)}</th><td>${escapeHtml(a.prediction)}<div class="meta">${rouge} ${verdict}</div></td></tr>`;
  });
  return `<article class="sample" data-id="${escapeHtml(sample.id)}">
<div class="picture">${picture}</div>
<div class="text">
<p class="question"><strong>Question${sample.kind ? ` (${escapeHtml(sample.kind)})` : ''}:</strong> ${escapeHtml(sample.question)}</p>
<p class="reference"><strong>Reference:</strong> ${escapeHtml(sample.reference)}</p>
<table class="answers"><tbody>
${answers.join('\n')}
</tbody></table>
</div>
</article>`;
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
.sweep { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
thead th { border-bottom: 2px solid #333; }
tbody th, td.label { text-align: left; font-weight: normal; }
thead th:first-child, thead th.label { text-align: left; }
tr.baseline th { font-style: italic; }
td.best { background: #eef6ee; }
td.paper { color: #666; }
td.missing { color: #999; }
table.statistics td { white-space: nowrap; }
.notes p { margin: 0.15rem 0; font-size: 0.85rem; color: #444; }
.notes p.note { padding-left: 1.2rem; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; flex: 1 1 520px; max-width: 640px; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
.sample { display: flex; gap: 1.2rem; border-top: 1px solid #ccc; padding: 1rem 0; }
.picture img, .no-image { width: 220px; height: auto; border: 1px solid #ddd; }
.no-image { height: 160px; display: flex; align-items: center; justify-content: center; color: #888; }
.text { flex: 1; }
table.answers td, table.answers th { text-align: left; vertical-align: top; }
.meta { font-size: 0.78rem; color: #666; }
.ok { color: #1a7f37; }
.wrong { color: #b42318; }
`;
