import { type ColumnId, supervisionName, type Table1 } from './table-1.ts';

/**
 * Each Table 1 metric against the number of training images: one line per supervision type,
 * the untuned baseline as a horizontal reference line. Written as plain SVG by hand: five
 * line charts do not justify a charting library, and this one has no fonts or scripts to fetch.
 */
export interface MetricPlot {
  /** File stem: `plot-accuracy`. */
  id: string;
  metric: ColumnId;
  title: string;
  series: PlotSeries[];
  baselines: { name: string; y: number }[];
  /** Variants with a value that could not be placed (train-image count unknown). */
  unplaced: string[];
}

export interface PlotSeries {
  name: string;
  /** `low`/`high`: the row's 95% interval (table-statistics.ts), drawn as an error bar. */
  points: { x: number; y: number; variant: string; low?: number; high?: number }[];
}

export function metricPlots(table: Table1): MetricPlot[] {
  return table.columns.map((column) => {
    const series = new Map<string, PlotSeries>();
    const baselines: MetricPlot['baselines'] = [];
    const unplaced: string[] = [];
    for (const row of table.rows) {
      const y = row.values[column.id];
      if (y === undefined) continue;
      if (row.baseline) {
        baselines.push({ name: row.label, y });
        continue;
      }
      const x = row.trainImages ?? (typeof row.trainSize === 'number' ? row.trainSize : undefined);
      if (x === undefined) {
        unplaced.push(row.variant);
        continue;
      }
      const name = seriesName(row.axes, row.supervision);
      const entry = series.get(name) ?? { name, points: [] };
      const interval = table.statistics?.rows.find((r) => r.variant === row.variant)?.intervals[
        column.id
      ];
      entry.points.push({ x, y, variant: row.variant, ...interval });
      series.set(name, entry);
    }
    for (const entry of series.values()) entry.points.sort((a, b) => a.x - b.x);
    return {
      id: `plot-${column.id}`,
      metric: column.id,
      title: column.title,
      series: [...series.values()],
      baselines,
      unplaced,
    };
  });
}

/** A line per supervision type; other swept settings (a LoRA rank) split lines further. */
function seriesName(axes: Record<string, unknown>, supervision: string | undefined): string {
  const others = Object.entries(axes)
    .filter(([key]) => key !== 'data.train_size' && key !== 'data.supervision')
    .map(([key, value]) => `${key}=${String(value)}`);
  return [supervision === undefined ? 'tuned' : supervisionName(supervision), ...others].join(', ');
}

/** Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const WIDTH = 640;
const HEIGHT = 380;
const MARGIN = { left: 64, right: 180, top: 44, bottom: 54 };

export function renderPlotSvg(plot: MetricPlot): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xs = plot.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [
    ...plot.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y])),
    ...plot.baselines.map((b) => b.y),
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(`${plot.title} against training images`)}" font-family="${FONT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="26" font-size="16" font-weight="bold" fill="#222">${escapeXml(`${plot.title} (%) by training images`)}</text>`,
  ];
  if (ys.length === 0) {
    parts.push(
      `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" font-size="14" text-anchor="middle" fill="#666">no results yet</text>`,
      '</svg>',
    );
    return `${parts.join('\n')}\n`;
  }
  // A margin around the data keeps points and the baseline off the axes; every metric is a
  // percentage, so the axis never runs below 0 (a row of zeros sits on the axis).
  const yLow = Math.min(...ys);
  const yHigh = Math.max(...ys);
  const yPad = (yHigh - yLow) * 0.08 || 0.5;
  const yTicks = niceTicks(Math.max(0, yLow - yPad), yHigh + yPad, 5);
  const yMin = yTicks[0] as number;
  const yMax = yTicks[yTicks.length - 1] as number;
  const yStep = yTicks.length > 1 ? (yTicks[1] as number) - yMin : 1;
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  const xLow = xTicks.length > 0 ? Math.min(0, xTicks[0] as number) : 0;
  const xHigh = xTicks.length > 0 ? (xTicks[xTicks.length - 1] as number) : 1;
  const xSpan = xHigh - xLow || 1;
  const px = (x: number) => MARGIN.left + ((x - xLow) / xSpan) * plotWidth;
  const py = (y: number) =>
    MARGIN.top + plotHeight - ((y - yMin) / (yMax - yMin || 1)) * plotHeight;

  for (const tick of yTicks) {
    const y = round(py(tick));
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text x="${MARGIN.left - 8}" y="${y + 4}" font-size="11" text-anchor="end" fill="#444">${formatTick(tick, yStep)}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = round(px(tick));
    parts.push(
      `<line x1="${x}" y1="${MARGIN.top + plotHeight}" x2="${x}" y2="${MARGIN.top + plotHeight + 5}" stroke="#444"/>`,
      `<text x="${x}" y="${MARGIN.top + plotHeight + 18}" font-size="11" text-anchor="middle" fill="#444">${tick}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${MARGIN.left + plotWidth}" y2="${MARGIN.top + plotHeight}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotHeight}" stroke="#444"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" font-size="12" text-anchor="middle" fill="#222">training images</text>`,
    `<text x="16" y="${MARGIN.top + plotHeight / 2}" font-size="12" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${MARGIN.top + plotHeight / 2})">${escapeXml(`${plot.title} (%)`)}</text>`,
  );

  const legend: string[] = [];
  const legendX = MARGIN.left + plotWidth + 16;
  let legendY = MARGIN.top + 8;
  for (const [index, baseline] of plot.baselines.entries()) {
    const y = round(py(baseline.y));
    const dash = index === 0 ? '4 4' : '1 3';
    parts.push(
      `<line class="baseline" x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#555" stroke-width="1.5" stroke-dasharray="${dash}"><title>${escapeXml(`${baseline.name}: ${baseline.y.toFixed(2)}`)}</title></line>`,
    );
    legend.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 24}" y2="${legendY}" stroke="#555" stroke-width="1.5" stroke-dasharray="${dash}"/>`,
      `<text x="${legendX + 30}" y="${legendY + 4}" font-size="11" fill="#222">${escapeXml(truncate(baseline.name, 22))}</text>`,
    );
    legendY += 18;
  }
  for (const [index, series] of plot.series.entries()) {
    const colour = COLOURS[index % COLOURS.length] as string;
    const dash = DASHES[index % DASHES.length] as string;
    const points = series.points.map((p) => `${round(px(p.x))},${round(py(p.y))}`).join(' ');
    for (const p of series.points) {
      if (p.low === undefined || p.high === undefined) continue;
      const x = round(px(p.x));
      const [top, bottom] = [round(py(p.high)), round(py(p.low))];
      parts.push(
        `<path class="error-bar" d="M${x - 4},${top}H${x + 4}M${x},${top}V${bottom}M${x - 4},${bottom}H${x + 4}" stroke="${colour}" stroke-width="1.2" fill="none"><title>${escapeXml(`${p.variant}: 95% interval ${p.low.toFixed(2)} to ${p.high.toFixed(2)}`)}</title></path>`,
      );
    }
    parts.push(
      `<polyline class="series" data-series="${escapeXml(series.name)}" points="${points}" fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      ...series.points.map(
        (p) =>
          `<circle cx="${round(px(p.x))}" cy="${round(py(p.y))}" r="3.5" fill="${colour}"><title>${escapeXml(`${p.variant}: ${p.y.toFixed(2)} at ${p.x} images`)}</title></circle>`,
      ),
    );
    legend.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 24}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<circle cx="${legendX + 12}" cy="${legendY}" r="3.5" fill="${colour}"/>`,
      `<text x="${legendX + 30}" y="${legendY + 4}" font-size="11" fill="#222">${escapeXml(truncate(series.name, 22))}</text>`,
    );
    legendY += 18;
  }
  parts.push(...legend, '</svg>');
  return `${parts.join('\n')}\n`;
}

/** Round tick values (1, 2 or 5 times a power of ten) that cover [low, high]. */
export function niceTicks(low: number, high: number, count: number): number[] {
  if (low === high) {
    low -= 1;
    high += 1;
  }
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ??
    10 * power) as number;
  const start = Math.floor(low / step) * step;
  const ticks: number[] = [];
  for (let t = start; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toFixed(10)));
  if ((ticks[ticks.length - 1] as number) < high)
    ticks.push(Number((start + ticks.length * step).toFixed(10)));
  return ticks;
}

/** As many decimals as the tick step needs, and no more. */
function formatTick(value: number, step: number): string {
  return value.toFixed(Math.max(0, -Math.floor(Math.log10(step))));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
