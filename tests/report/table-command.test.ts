import { readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../runner/artifact-store.ts';
import { planSweep } from '../../runner/sweep-plan.ts';
import { reportArtifacts } from '../../stages/report/report-artifacts.ts';
import { reportTestPipeline } from './report-pipeline.ts';
import { makeReportWorkspace } from './report-workspace.ts';

/** Variants run in the shared workspace; caption-8, caption-all and qa_caption-8 are left out. */
const RUN = 'qa-4,qa-8,qa-all,caption-4,qa_caption-4,qa_caption-all,baseline-untuned';

type Workspace = Awaited<ReturnType<typeof makeReportWorkspace>>;

function lineOf(text: string, label: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${label} `));
  if (!line) throw new Error(`no line for ${label} in:\n${text}`);
  return line;
}

describe('dermatune table over a half-run sweep', () => {
  let ws: Workspace;
  let stdout: string;

  beforeAll(async () => {
    ws = await makeReportWorkspace();
    const run = await ws.cli(['run', ws.spec, '--only', RUN]);
    expect(run.code, run.stderr).toBe(0);
    const table = await ws.cli(['table', ws.spec]);
    expect(table.code, table.stderr).toBe(0);
    stdout = table.stdout;
  });

  afterAll(async () => {
    await ws?.cleanup();
  });

  it('prints a row per variant, named as the paper names them, with the train-image count for "all"', () => {
    const labels = stdout
      .split('\n')
      .slice(3, 13)
      .map((l) => l.split(/\s{2,}/)[0]);
    expect(labels).toEqual([
      'QApairs-4',
      'QApairs-8',
      'QApairs-10',
      'Caption-4',
      'Caption-8',
      'Caption-10',
      'QaCaption-4',
      'QaCaption-8',
      'QaCaption-10',
      'baseline-untuned',
    ]);
    expect(stdout.split('\n')[2]).toMatch(
      /^Model-Data\s+Accuracy\s+BLEU\s+ROUGE-1\s+ROUGE-L\s+BERTScore$/,
    );
  });

  it('shows percentages with two decimals and marks the best value of each column', () => {
    expect(lineOf(stdout, 'QApairs-4').split(/\s+/).slice(1)).toEqual([
      '64.00',
      '10.40',
      '40.80',
      '35.80',
      '87.40',
    ]);
    expect(lineOf(stdout, 'QApairs-10')).toMatch(
      /70\.00\s+11\.00\*\s+42\.00\*\s+37\.00\*\s+87\.40$/,
    );
    expect(lineOf(stdout, 'QaCaption-10')).toMatch(/71\.00\*/);
    expect(lineOf(stdout, 'baseline-untuned')).toMatch(
      /62\.00\s+3\.59\s+22\.93\s+19\.10\s+95\.00\*$/,
    );
    expect(stdout.match(/\*/g)?.length).toBe(5 + 1); // five marks and the legend's
  });

  it('shows a variant not evaluated yet as "—" with a note, without failing', () => {
    expect(lineOf(stdout, 'Caption-8').split(/\s+/).slice(1)).toEqual(['—', '—', '—', '—', '—']);
    expect(stdout).toContain(
      'Caption-8: not evaluated yet (variant caption-8; dermatune run <spec> --only caption-8 produces it)',
    );
    expect(stdout).toContain('Caption-10: not evaluated yet (variant caption-all;');
  });

  it('says which BERTScore model and layer and which encoder made the numbers', () => {
    expect(stdout).toContain(
      'Scored with: BERTScore with all-MiniLM-L6-v2 at layer 6 (no baseline rescaling); accuracy by semantic matching with all-MiniLM-L6-v2.',
    );
    expect(stdout).toContain('The paper scored with BERTScore on roberta-large at layer 17');
  });

  it('writes Markdown with the best values in bold, CSV with plain numbers, and JSON', async () => {
    const md = await readFile(join(ws.reportDir, 'table.md'), 'utf8');
    expect(md).toContain('| QApairs-10 | 70.00 | **11.00** | **42.00** | **37.00** | 87.40 |');
    expect(md).toContain('| Caption-8 | — | — | — | — | — |');
    expect(md).toContain('| baseline-untuned | 62.00 | 3.59 | 22.93 | 19.10 | **95.00** |');
    expect(md).toContain('### Beyond the paper');
    // Both shapes of the evaluate output read alike: bare names (tuned) and eval/ names (baseline).
    expect(md).toContain(
      '| QApairs-4 | 59.00 | 69.00 | 10.40 | 20.40 | 35.80 | 87.40 | 87.40 | 9.00 | 80.00 | 10.00 | 0.00 |',
    );
    expect(md).toContain(
      '| baseline-untuned | 57.00 | 67.00 | 3.59 | 11.46 | 19.10 | 95.00 | 95.00 | 9.00 | 80.00 | 10.00 | 0.00 |',
    );

    const csv = (await readFile(join(ws.reportDir, 'table.csv'), 'utf8')).split('\r\n');
    expect(csv[0]).toBe(
      'model_data,variant,supervision,train_size,train_images,baseline,accuracy,bleu,rouge1,rougeL,bertscore',
    );
    expect(csv).toContain('QApairs-10,qa-all,qa,all,10,false,70.00,11.00,42.00,37.00,87.40');
    expect(csv).toContain('Caption-8,caption-8,caption,8,8,false,,,,,');
    expect(csv).toHaveLength(12); // header, ten rows, the final line break

    const json = JSON.parse(await readFile(join(ws.reportDir, 'table.json'), 'utf8'));
    expect(json.rows).toHaveLength(10);
    expect(json.rows[2].best).toEqual({
      accuracy: false,
      bleu: true,
      rouge1: true,
      rougeL: true,
      bertscore: false,
    });
  });

  it('draws each metric against train size, a line per supervision and the baseline as a reference line', async () => {
    const svg = await readFile(join(ws.reportDir, 'plots', 'plot-accuracy.svg'), 'utf8');
    const series = [
      ...svg.matchAll(/<polyline class="series" data-series="([^"]+)" points="([^"]+)"/g),
    ];
    expect(series.map((m) => m[1])).toEqual(['QApairs', 'Caption', 'QaCaption']);
    expect(series.map((m) => (m[2] as string).split(' ').length)).toEqual([3, 1, 2]);
    expect(svg.match(/class="baseline"/g)).toHaveLength(1);
    expect(svg).toContain('<title>baseline-untuned: 62.00</title>');
    expect(svg).toContain('<title>qa-all: 70.00 at 10 images</title>');
    // The baseline is drawn at its value: lower than every QApairs point (SVG y grows downwards).
    const baselineY = Number(svg.match(/class="baseline" x1="[\d.]+" y1="([\d.]+)"/)?.[1]);
    const qaYs = String(series[0]?.[2])
      .split(' ')
      .map((p) => Number(p.split(',')[1]));
    for (const y of qaYs) expect(baselineY).toBeGreaterThan(y);

    for (const metric of ['accuracy', 'bleu', 'rouge1', 'rougeL', 'bertscore']) {
      const png = await readFile(join(ws.reportDir, 'plots', `plot-${metric}.png`));
      expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
      expect(png.readUInt32BE(16)).toBe(1280); // width: twice the SVG's 640
    }
  });

  it('writes a self-contained HTML report with the table, the plots and escaped sample cases', async () => {
    const html = await readFile(join(ws.reportDir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:|\/\/)/);
    expect(html.match(/<tr data-variant=/g)).toHaveLength(10);
    expect(html.match(/<td class="best">/g)).toHaveLength(5);
    expect(html.match(/<figure id="plot-/g)).toHaveLength(5);
    const samples = html.match(/<article class="sample"/g) ?? [];
    expect(samples).toHaveLength(3);
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)).toHaveLength(3);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    // Tuned variants' answers come from generate's predictions.jsonl joined to examples.jsonl.
    expect(html).toMatch(
      /qa model \(4 images\) says impetigo &amp; &quot;crusts&quot; for img\d:q1/,
    );
    expect(html).toMatch(
      /<strong>Reference:<\/strong> Impetigo with honey-coloured crusts, case \d\./,
    );
    // Each sample shows every evaluated variant's answer (7 variants ran).
    const firstSample = html.slice(html.indexOf('<article class="sample"'));
    const answers = firstSample
      .slice(0, firstSample.indexOf('</article>'))
      .match(/<tr><th scope="row">/g);
    expect(answers).toHaveLength(7);
  });

  it('picks the same sample cases on every run, covering both question kinds', async () => {
    const ids = (html: string) =>
      [...html.matchAll(/<article class="sample" data-id="([^"]+)"/g)].map((m) => m[1]);
    const before = ids(await readFile(join(ws.reportDir, 'report.html'), 'utf8'));
    const again = await ws.cli(['table', ws.spec]);
    expect(again.code).toBe(0);
    const after = ids(await readFile(join(ws.reportDir, 'report.html'), 'utf8'));
    expect(after).toEqual(before);
    const html = await readFile(join(ws.reportDir, 'report.html'), 'utf8');
    expect(html).toContain('Question (general)');
    expect(html).toContain('Question (dataset)');
  });

  it("sets the paper's published values beside ours with --compare-paper", async () => {
    const out = join(ws.dir, 'compared');
    const run = await ws.cli(['table', ws.spec, '--compare-paper', '--out', 'compared']);
    expect(run.code, run.stderr).toBe(0);
    expect(lineOf(run.stdout, 'QApairs-4')).toMatch(
      /^QApairs-4\s+QApairs-500\s+64\.00\s+61\.96\s+10\.40\s+11\.46\s+40\.80\s+40\.78\s+35\.80\s+35\.12\s+87\.40\s+90\.19$/,
    );
    expect(lineOf(run.stdout, 'QApairs-10')).toMatch(
      /^QApairs-10\s+QApairs-2286\s+70\.00\s+68\.63/,
    );
    expect(lineOf(run.stdout, 'baseline-untuned')).toMatch(
      /^baseline-untuned\s+SmolVLM-Instruct\s+62\.00\s+68\.24/,
    );
    expect(run.stdout).toContain('Paper: Zhang, Yilmaz, Gencoglan, Temelkuran. Diagnostics 2026');
    const csv = await readFile(join(out, 'table.csv'), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(
      /,paper_row,paper_accuracy,paper_bleu,paper_rouge1,paper_rougeL,paper_bertscore$/,
    );
    expect(csv).toContain(
      'QaCaption-10,qa_caption-all,qa_caption,all,10,false,71.00,9.50,36.00,31.00,87.34,QaCaption-2286,70.20,7.87,34.45,28.56,88.79',
    );
    const md = await readFile(join(out, 'table.md'), 'utf8');
    expect(md).toContain('| Model-Data | Paper row | Accuracy | Accuracy (paper) |');
    expect((await stat(join(out, 'report.html'))).size).toBeGreaterThan(0);
  });

  it('narrows to --only variants and names the published rows left without a counterpart', async () => {
    const run = await ws.cli([
      'table',
      ws.spec,
      '--only',
      'qa-4,baseline-untuned',
      '--compare-paper',
      '--out',
      'narrow',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('QApairs-4 ');
    expect(run.stdout).not.toContain('QApairs-8 ');
    expect(run.stdout).toContain(
      'Published rows with no counterpart in this sweep: QApairs-1000, QApairs-2286, Caption-500, Caption-1000, Caption-2286, QaCaption-500, QaCaption-1000, QaCaption-2286.',
    );
  });

  it('prints the table and the written files as JSON with --json', async () => {
    const run = await ws.cli(['table', ws.spec, '--json']);
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.table.rows.map((r: { label: string }) => r.label)).toContain('QaCaption-10');
    expect(parsed.table.rows[4].values).toEqual({});
    expect(parsed.table.scoring).toEqual([
      {
        bertscoreModel: 'all-MiniLM-L6-v2',
        bertscoreRescaled: false,
        bertscoreIdf: false,
        encoderModel: 'all-MiniLM-L6-v2',
        bertscoreLayer: 6,
      },
    ]);
    expect(parsed.report.files).toEqual([
      'table.md',
      'table.csv',
      'table.json',
      'comparison.md',
      'comparison.json',
      'plots/plot-accuracy.svg',
      'plots/plot-accuracy.png',
      'plots/plot-bleu.svg',
      'plots/plot-bleu.png',
      'plots/plot-rouge1.svg',
      'plots/plot-rouge1.png',
      'plots/plot-rougeL.svg',
      'plots/plot-rougeL.png',
      'plots/plot-bertscore.svg',
      'plots/plot-bertscore.png',
      'report.html',
    ]);
  });

  it('lists the report files as MLflow artifacts under report/', async () => {
    const artifacts = await reportArtifacts(ws.reportDir);
    expect(artifacts.map((a) => a.artifactPath)).toEqual([
      'report/comparison.json',
      'report/comparison.md',
      'report/plots/plot-accuracy.png',
      'report/plots/plot-accuracy.svg',
      'report/plots/plot-bertscore.png',
      'report/plots/plot-bertscore.svg',
      'report/plots/plot-bleu.png',
      'report/plots/plot-bleu.svg',
      'report/plots/plot-rouge1.png',
      'report/plots/plot-rouge1.svg',
      'report/plots/plot-rougeL.png',
      'report/plots/plot-rougeL.svg',
      'report/report.html',
      'report/table.csv',
      'report/table.json',
      'report/table.md',
    ]);
    for (const a of artifacts) expect((await stat(a.file)).isFile()).toBe(true);
  });

  it('tests every row against the untuned baseline, or the --against variant, and explains the marks', async () => {
    expect(stdout).toContain(
      "▲/▼: higher/lower than baseline-untuned at p <= 0.05 after Holm's correction",
    );
    expect(stdout).toContain('Against baseline-untuned:');
    expect(stdout).toMatch(/^Intervals: /m);
    expect(stdout).toMatch(/^Verbosity: /m);
    const other = await ws.cli(['table', ws.spec, '--against', 'qa-all', '--out', 'against']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toContain('Against QApairs-10:');
    const comparison = JSON.parse(
      await readFile(join(ws.dir, 'against', 'comparison.json'), 'utf8'),
    );
    expect(comparison.reference).toEqual({ variant: 'qa-all', label: 'QApairs-10' });
    const bad = await ws.cli(['table', ws.spec, '--against', 'qa-al']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--against qa-al: no such variant; did you mean "qa-all"?');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a corrupt stored evaluation as missing, with the reason', async () => {
    const planned = await planSweep(reportTestPipeline, { specPath: ws.spec, only: ['qa-4'] });
    if (!planned.ok) throw new Error('plan failed');
    const evaluate = planned.value.graph.nodes.find((n) => n.kind.name === 'evaluate');
    const entry = await new ArtifactStore(ws.store).lookup(evaluate?.key ?? '');
    if (entry.state !== 'present')
      throw new Error(`expected a stored evaluation, got ${entry.state}`);
    await truncate(join(entry.outputDir, 'metrics.json'), 3);
    const run = await ws.cli(['table', ws.spec, '--only', 'qa-4', '--out', 'corrupt']);
    expect(run.code).toBe(0);
    expect(lineOf(run.stdout, 'QApairs-4').split(/\s+/).slice(1)).toEqual([
      '—',
      '—',
      '—',
      '—',
      '—',
    ]);
    expect(run.stdout).toContain(
      'QApairs-4: its stored evaluation is corrupt (metrics.json is 3 bytes, expected',
    );
  });
});

describe('dermatune table before anything ran', () => {
  it('prints every row as missing and still writes the report', async () => {
    const ws = await makeReportWorkspace();
    const run = await ws.cli(['table', ws.spec]);
    expect(run.code, run.stderr).toBe(0);
    expect(lineOf(run.stdout, 'QApairs-4').split(/\s+/).slice(1)).toEqual([
      '—',
      '—',
      '—',
      '—',
      '—',
    ]);
    expect(lineOf(run.stdout, 'QApairs-all').split(/\s+/).slice(1)).toEqual([
      '—',
      '—',
      '—',
      '—',
      '—',
    ]);
    expect(run.stdout).toContain('Scored with: nothing evaluated yet.');
    const html = await readFile(join(ws.reportDir, 'report.html'), 'utf8');
    expect(html).toContain('No evaluated variant yet');
    const svg = await readFile(join(ws.reportDir, 'plots', 'plot-bleu.svg'), 'utf8');
    expect(svg).toContain('no results yet');
    await ws.cleanup();
  });

  it('refuses an invalid spec with the usual diagnostics (exit 2)', async () => {
    const ws = await makeReportWorkspace();
    const run = await ws.cli(['table', ws.spec, '--set', 'data.supervision=poems']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nothing was run');
    await ws.cleanup();
  });
});
