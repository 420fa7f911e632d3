import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTrackingServer, trackingDir } from '../../runner/tracking/mlflow-server.ts';
import { mlflowGet } from './mlflow-read.ts';

const roots: string[] = [];

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** Resolves once a file of the store's database (complete or partial) appears. */
async function databaseFileAppears(dir: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const names = await readdir(dir).catch(() => [] as string[]);
    const found = names.find((name) => name.startsWith('mlflow.db'));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no database file in ${dir} after ${timeoutMs} ms`);
}

describe("the embedded MLflow server's database", () => {
  it('survives a start stopped while it creates the schema: the next start serves the store', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'dermatune-db-create-'));
    roots.push(storeDir);
    const dir = trackingDir(storeDir);
    const abandon = new AbortController();
    const first = startTrackingServer({ storeDir, signal: abandon.signal });
    // Stopped part-way through the migrations, as `dermatune run` stops a start that outlives
    // a short run. A creation takes about 1.5 s here; 300 ms in is well inside it.
    const seen = await databaseFileAppears(dir, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    abandon.abort();
    const stopped = await first;
    expect(stopped.ok).toBe(false);
    expect(!stopped.ok && stopped.error.reason).toBe('aborted');
    // What appeared mid-creation was a partial file, never the database a server opens.
    expect(seen).toMatch(/^mlflow\.db\.\d+\.[0-9a-f]+\.partial/);
    expect(await readdir(dir)).not.toContain('mlflow.db');

    const second = await startTrackingServer({ storeDir });
    if (!second.ok) throw new Error(second.error.message);
    try {
      const listed = await mlflowGet<{ experiments: { name: string }[] }>(
        second.value.url,
        '/api/2.0/mlflow/experiments/search',
        { max_results: '10' },
      );
      expect(listed.experiments.map((e) => e.name)).toContain('Default');
    } finally {
      await second.value.stop();
    }
    // The abandoned partial and its journal are gone; only the complete database is left.
    const left = (await readdir(dir)).filter((name) => name.startsWith('mlflow.db'));
    expect(left).toEqual(['mlflow.db']);
  }, 180_000);
});
