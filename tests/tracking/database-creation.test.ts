import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePythonEnv } from '../../runner/python-env.ts';
import {
  MLFLOW_REQUIREMENTS,
  serverLayout,
  startTrackingServer,
  trackingDir,
} from '../../runner/tracking/mlflow-server.ts';
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

  /** Runs a Python snippet in the MLflow venv on a new store's database file; the store. */
  async function storeAfterPython(prefix: string, code: string, args: string[]): Promise<string> {
    const storeDir = await mkdtemp(join(tmpdir(), prefix));
    roots.push(storeDir);
    await mkdir(trackingDir(storeDir), { recursive: true });
    const env = await ensurePythonEnv([MLFLOW_REQUIREMENTS]);
    if (!env.ok) throw new Error(env.error.message);
    execFileSync(env.value.python, ['-c', code, serverLayout(storeDir).databaseFile, ...args]);
    return storeDir;
  }

  /** A database file made with SQLite directly, as earlier versions or damage left one. */
  function storeWithDatabase(prefix: string, sql: string[]): Promise<string> {
    const code =
      'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nfor s in sys.argv[2:]: c.execute(s)\nc.commit()';
    return storeAfterPython(prefix, code, sql);
  }

  it('sets aside a database an older dermatune left half made, which holds nothing, and serves a new one', async () => {
    // What a creation stopped mid-way in place left: one of MLflow's later tables, and no
    // experiment, since no server ever finished opening it.
    const storeDir = await storeWithDatabase('dermatune-db-unfinished-', [
      'create table secrets (x int)',
    ]);
    const started = await startTrackingServer({ storeDir });
    if (!started.ok) throw new Error(started.error.message);
    await started.value.stop();
    const names = await readdir(trackingDir(storeDir));
    expect(names).toContain('mlflow.db');
    expect(
      names.filter((name) => /^mlflow\.db\.unfinished-\d{8}T\d{6}-\d+$/.test(name)),
    ).toHaveLength(1);
    const log = await readFile(serverLayout(storeDir).logFile, 'utf8');
    expect(log).toMatch(/set aside an MLflow database whose creation was cut short/);
  }, 180_000);

  it('never sets aside a complete database a peer has just linked, before its server opens it', async () => {
    // Complete, as a creation links it, but without the Default experiment that only a
    // server's first opening adds: another runner may be starting its server on it right now.
    const storeDir = await storeAfterPython(
      'dermatune-db-linked-',
      'import sys; sys.path.insert(0, sys.argv[2]); import mlflow_serve; mlflow_serve.ensure_database(sys.argv[1])',
      [join(import.meta.dirname, '..', '..', 'runner', 'tracking')],
    );
    const started = await startTrackingServer({ storeDir });
    if (!started.ok) throw new Error(started.error.message);
    await started.value.stop();
    expect((await readdir(trackingDir(storeDir))).filter((n) => n.startsWith('mlflow.db'))).toEqual(
      ['mlflow.db'],
    );
  }, 180_000);

  it('reports a database it refuses that holds data, with the reason from its log, and keeps it', async () => {
    const storeDir = await storeWithDatabase('dermatune-db-refused-', [
      'create table experiments (experiment_id int)',
      'insert into experiments values (1)',
      'create table secrets (x int)',
    ]);
    const { logFile } = serverLayout(storeDir);
    const started = await startTrackingServer({ storeDir });
    if (started.ok) await started.value.stop();
    expect(started.ok).toBe(false);
    expect(!started.ok && started.error.message).toBe(
      `mlflow server exited with 1: sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) table secrets already exists (log: ${logFile})`,
    );
    // One attempt: another port would only meet the same database, which is left where it was.
    const log = await readFile(logFile, 'utf8');
    expect(log.match(/Error initializing backend store/g)).toHaveLength(1);
    expect((await readdir(trackingDir(storeDir))).filter((n) => n.startsWith('mlflow.db'))).toEqual(
      ['mlflow.db'],
    );
  }, 180_000);
});
