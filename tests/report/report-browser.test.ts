import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReportWorkspace } from './report-workspace.ts';

/**
 * The report page in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * Without Chromium this fails (never skips): install it with `apt-get install -y chromium`.
 * The screenshot is kept in the test's temp folder and copied to tests/artifacts/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

describe('the HTML report in headless Chromium', () => {
  let browser: Browser;
  let reportFile: string;
  let workDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the report's browser test needs Debian's Chromium (apt-get install -y chromium)`,
      );
    }
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
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
    await mkdir(ARTIFACTS, { recursive: true });
    // Test output, never source: the folder ignores itself.
    await writeFile(join(ARTIFACTS, '.gitignore'), '*\n');
    await copyFile(shot, join(ARTIFACTS, 'report-page.png'));
    await page.close();
  }, 60_000);
});
