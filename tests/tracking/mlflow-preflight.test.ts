import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { trackingPreflight } from '../../runner/tracking/mlflow-preflight.ts';
import {
  freeLoopbackPort,
  startTrackingServer,
  type TrackingServer,
} from '../../runner/tracking/mlflow-server.ts';

let root: string;
let proxying: TrackingServer;
let plain: TrackingServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dermatune-mlflow-preflight-'));
  const [a, b] = await Promise.all([
    startTrackingServer({ storeDir: join(root, 'proxying') }),
    startTrackingServer({ storeDir: join(root, 'plain'), serveArtifacts: false }),
  ]);
  if (!a.ok) throw new Error(a.error.message);
  if (!b.ok) throw new Error(b.error.message);
  proxying = a.value;
  plain = b.value;
}, 240_000);
afterAll(async () => {
  await proxying?.stop();
  await plain?.stop();
  await rm(root, { recursive: true, force: true });
});

const check = (uri: string | undefined, experiment = 'preflight-study') =>
  trackingPreflight(
    experiment,
    join(root, 'store'),
    preflightContext({ env: { MLFLOW_TRACKING_URI: uri } }),
  );

describe('MLflow preflight against real MLflow servers', () => {
  it('passes a server that proxies artifacts, before the experiment exists', async () => {
    const [result] = await check(proxying.url);
    expect(result).toMatchObject({ part: 'mlflow', outcome: 'passed' });
    expect(result?.detail).toBe(
      'answers; artifacts are proxied; experiment preflight-study will be created',
    );
  });

  it('says ARTIFACTS_NOT_PROXIED before the run for a --no-serve-artifacts server', async () => {
    const [result] = await check(plain.url);
    expect(result).toMatchObject({ outcome: 'failed', setting: 'MLFLOW_TRACKING_URI' });
    expect(result?.detail).toMatch(
      /^ARTIFACTS_NOT_PROXIED: the server runs with --no-serve-artifacts/,
    );
  });

  it('says ARTIFACTS_NOT_PROXIED for an experiment whose artifacts live outside the proxy', async () => {
    // As an experiment made by a plain `mlflow.create_experiment(artifact_location=...)` is.
    const created = await fetch(`${proxying.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'elsewhere',
        artifact_location: join(root, 'elsewhere-artifacts'),
      }),
    });
    expect(created.status).toBe(200);
    const [result] = await check(proxying.url, 'elsewhere');
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result?.detail).toContain(
      'ARTIFACTS_NOT_PROXIED: experiment elsewhere keeps artifacts at',
    );
  });

  it('reports a server that is down as a failure a run survives (the journal keeps its calls)', async () => {
    const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const [result] = await check(closed);
    expect(result).toMatchObject({
      outcome: 'failed',
      warnOnly: true,
      setting: 'MLFLOW_TRACKING_URI',
    });
    expect(result?.detail).toContain('could not reach it');
  });

  it('skips the embedded server and refuses a URI it cannot speak to', async () => {
    expect((await check(undefined))[0]?.outcome).toBe('skipped');
    expect((await check('databricks'))[0]).toMatchObject({
      outcome: 'failed',
      setting: 'MLFLOW_TRACKING_URI',
    });
  });
});
