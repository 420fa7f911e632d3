import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPERIMENT_KIND_TAG,
  modelTrainingViewUrl,
} from '../../runner/tracking/experiment-kind.ts';
import { startTrackingServer, type TrackingServer } from '../../runner/tracking/mlflow-server.ts';
import { trackingForRun } from '../../runner/tracking/run-tracking.ts';
import { launchChromium } from '../headless-chromium.ts';
import { mlflowGet } from '../tracking/mlflow-read.ts';
import { makeReportWorkspace } from './report-workspace.ts';

/**
 * The report page in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * Without Chromium this fails (never skips), saying how to install it (tests/headless-chromium.ts).
 * The screenshot is kept in the test's temp folder and copied to tests/artifacts/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
/** Keeps a screenshot in tests/artifacts/ (test output, never source: the folder ignores itself). */
async function keepScreenshot(shot: string, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, '.gitignore'), '*\n');
  await copyFile(shot, join(ARTIFACTS, name));
}

describe('the HTML report in headless Chromium', () => {
  let browser: Browser;
  let reportFile: string;
  let workDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const ws = await makeReportWorkspace();
    workDir = ws.dir;
    cleanup = ws.cleanup;
    const run = await ws.cli([
      'run',
      ws.spec,
      '--only',
      'qa-4,qa-all,caption-4,qa_caption-all,baseline-untuned',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const table = await ws.cli(['table', ws.spec, '--compare-paper']);
    expect(table.code, table.stderr).toBe(0);
    reportFile = join(ws.reportDir, 'report.html');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await cleanup?.();
  });

  it('renders the table, the plots and the sample images from the file alone, and is screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requested: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(reportFile).href, { waitUntil: 'load' });

    const table = page.locator('#table-1-data');
    expect(await table.isVisible()).toBe(true);
    expect(await table.locator('thead th').allInnerTexts()).toEqual([
      'Model-Data',
      'Paper row',
      'Accuracy',
      'Accuracy (paper)',
      'BLEU',
      'BLEU (paper)',
      'ROUGE-1',
      'ROUGE-1 (paper)',
      'ROUGE-L',
      'ROUGE-L (paper)',
      'BERTScore',
      'BERTScore (paper)',
    ]);
    expect(await table.locator('tbody tr').count()).toBe(10);
    const qa = await table.locator('tr[data-variant="qa-4"] > *').allInnerTexts();
    expect(qa.slice(0, 4)).toEqual(['QApairs-4', 'QApairs-500', '64.00', '61.96']);
    const missing = await table.locator('tr[data-variant="caption-8"] td.missing').allInnerTexts();
    expect(missing).toEqual(['—', '—', '—', '—', '—']);

    // The best value of each column is drawn in bold.
    const best = table.locator('td.best strong');
    expect(await best.count()).toBe(5);
    // Page-side code as strings: the project's TypeScript has no DOM library.
    const weight = await page.evaluate(
      "getComputedStyle(document.querySelector('td.best strong')).fontWeight",
    );
    expect(Number(weight)).toBeGreaterThanOrEqual(700);

    // Plots are drawn (non-zero boxes) and the sample images decoded.
    const plots = page.locator('#plots figure svg');
    expect(await plots.count()).toBe(5);
    for (const box of await plots.evaluateAll((els) =>
      els.map((el) => el.getBoundingClientRect().width),
    )) {
      expect(box).toBeGreaterThan(100);
    }
    const images = await page.evaluate(
      "[...document.querySelectorAll('.sample img')].map((i) => ({ complete: i.complete, width: i.naturalWidth }))",
    );
    expect(images).toEqual([
      { complete: true, width: 16 },
      { complete: true, width: 16 },
      { complete: true, width: 16 },
    ]);
    expect(await page.locator('.sample').first().locator('table.answers tr').count()).toBe(5);

    // Self-contained: nothing but the file itself and data URIs was loaded; no script ran.
    expect(requested.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual(
      [],
    );
    expect(errors).toEqual([]);

    const shot = join(workDir, 'report-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1280);
    await keepScreenshot(shot, 'report-page.png');
    await page.close();
  }, 60_000);
});

describe("the sweep's experiment in MLflow's own UI, in headless Chromium", () => {
  let browser: Browser;
  let server: TrackingServer;
  let workDir: string;
  let cleanup: () => Promise<void>;
  let experimentId: string;
  const variants = [
    ...['qa', 'caption', 'qa_caption'].flatMap((s) => [4, 8, 'all'].map((n) => `${s}-${n}`)),
    'baseline-untuned',
  ];

  beforeAll(async () => {
    const started = await startTrackingServer({
      storeDir: await mkdtemp(join(tmpdir(), 'dermatune-mlflow-ui-')),
    });
    if (!started.ok) throw new Error(started.error.message);
    server = started.value;
    const ws = await makeReportWorkspace();
    workDir = ws.dir;
    cleanup = ws.cleanup;
    const run = await ws.cli(['run', ws.spec], {
      env: { MLFLOW_TRACKING_URI: server.url },
      tracking: trackingForRun,
    });
    expect(run.code, run.stderr).toBe(0);
    const found = await mlflowGet<{ experiment: { experiment_id: string } }>(
      server.url,
      '/api/2.0/mlflow/experiments/get-by-name',
      { experiment_name: 'report-test' },
    );
    experimentId = found.experiment.experiment_id;
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await cleanup?.();
  });

  it('opens the experiment in the model-training view: the runs table with every variant and an eval metric column', async () => {
    const page = await browser.newPage({ viewport: { width: 2400, height: 1000 } });
    const kind = await mlflowGet<{ experiment: { tags?: { key: string; value: string }[] } }>(
      server.url,
      '/api/2.0/mlflow/experiments/get',
      { experiment_id: experimentId },
    );
    expect(kind.experiment.tags).toContainEqual(EXPERIMENT_KIND_TAG);
    // The link dermatune prints for an experiment.
    await page.goto(modelTrainingViewUrl(server.url, experimentId), { waitUntil: 'load' });
    const shot = join(workDir, 'mlflow-runs.png');
    try {
      await page.waitForURL(/#\/experiments\/\d+\/runs/, { timeout: 60_000 });
      await page.getByText('report-test', { exact: true }).last().waitFor({ timeout: 60_000 });
      // What a user does: close the assistant panel, add the eval/rougeL column from "Columns",
      // and unfold the sweep's parent run, whose children are the variants.
      await page.getByRole('button', { name: 'Close' }).click();
      // While the table loads, MLflow can render the toolbar twice for a moment: take the visible one.
      await page
        .getByRole('button', { name: 'Columns', exact: true })
        .filter({ visible: true })
        .first()
        .click();
      await page.getByPlaceholder('Search columns').fill('eval/rougeL');
      // The selector is a tree: a group node ("Metrics (2)") and its column nodes, each with a
      // checkbox. Only the column's own checkbox is clicked: the group's title or checkbox ticks
      // every metric, and a plain text match also finds the table's header and the highlighted
      // "eval/rougeL" inside "eval/rougeLsum".
      const tree = page.getByTestId('column-selector-tree');
      const nodes = tree.locator('[class*="-tree-treenode"]');
      const columnTitle = page.locator('[class*="-tree-title"]', { hasText: /^eval\/rougeL$/ });
      const title = tree.locator(columnTitle);
      const shown = await title
        .waitFor({ timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (!shown) {
        // The matching group sometimes renders folded: open it with its switcher.
        await nodes
          .filter({ hasText: /^Metrics \(\d+\)$/ })
          .locator('[class*="-tree-switcher"]')
          .first()
          .click();
      }
      const checkbox = nodes
        .filter({ has: columnTitle })
        .locator('[class*="-tree-checkbox"]')
        .first();
      if (!/-tree-checkbox-checked/.test((await checkbox.getAttribute('class')) ?? '')) {
        await checkbox.click();
      }
      await page.keyboard.press('Escape');
      await page.getByTestId('sort-header-eval/rougeL').waitFor({ timeout: 30_000 });
      await page.locator('.ag-row [col-id="attributes.`Run Name`"] button').first().click();
      for (const variant of variants) {
        await page.getByText(variant, { exact: true }).first().waitFor({ timeout: 30_000 });
      }
    } finally {
      await page.screenshot({ path: shot, fullPage: true });
      await keepScreenshot(shot, 'mlflow-runs.png');
    }
    expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  }, 180_000);
});
