import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { resolveExecutor } from '../../runner/executors/executor-settings.ts';
import { packageFolder } from '../../runner/executors/ray/code-package.ts';
import { capacity, classify } from '../../runner/executors/ray/ray-executor.ts';
import type { RayJobDetails, RayNode } from '../../runner/executors/ray/ray-jobs-client.ts';
import { SharedStorage } from '../../runner/executors/ray/shared-storage.ts';
import { workerOutcome } from '../../stages/model-worker/worker-stage.ts';

function job(status: RayJobDetails['status'], extra: Partial<RayJobDetails> = {}): RayJobDetails {
  return { submission_id: 'j', status, entrypoint: 'python -m x', ...extra };
}

function node(resources: Record<string, number>, state = 'ALIVE'): RayNode {
  return {
    node_id: 'n',
    node_ip: '10.0.0.1',
    state,
    is_head_node: false,
    resources_total: resources,
  };
}

describe('what a finished Ray job means', () => {
  const done = workerOutcome(['noise', '{"event": "done", "summary": {"steps": 3}}']);
  const workerError = workerOutcome([
    '{"event": "error", "kind": "bad-image", "message": "x.jpg is not an image"}',
  ]);
  const cancelled = workerOutcome([
    '{"event": "error", "kind": "cancelled", "message": "stopped by SIGTERM"}',
  ]);
  const silent = workerOutcome([
    'Running entrypoint for job j',
    'Traceback (most recent call last):',
  ]);

  it('reads the worker verdict from the last done or error event of the log', () => {
    expect(done).toEqual({ state: 'done', result: { event: 'done', summary: { steps: 3 } } });
    expect(workerError).toMatchObject({
      state: 'failed',
      cancelled: false,
      failure: { reason: 'invalid-input' },
    });
    expect(cancelled).toMatchObject({ state: 'failed', cancelled: true });
    expect(silent).toEqual({ state: 'no-result' });
  });

  it('keeps the stage’s own failure, and counts jobs without a verdict of their own as lost', () => {
    expect(classify(job('SUCCEEDED'), done, false)).toEqual({
      kind: 'succeeded',
      result: { event: 'done', summary: { steps: 3 } },
    });
    expect(classify(job('FAILED'), workerError, false)).toMatchObject({
      kind: 'failed',
      failure: { reason: 'invalid-input' },
    });
    // Stopped by someone else (the worker saw SIGTERM), or its node died: lost.
    expect(classify(job('STOPPED'), cancelled, false)).toEqual({ kind: 'lost' });
    expect(
      classify(job('FAILED', { error_type: 'JOB_SUPERVISOR_ACTOR_DIED' }), silent, false),
    ).toEqual({ kind: 'lost' });
    // A succeeded job whose log has no result is not adopted.
    expect(classify(job('SUCCEEDED'), silent, false)).toEqual({ kind: 'lost' });
    // Stopped by this run (Ctrl-C): cancelled, never resubmitted.
    expect(classify(job('STOPPED'), cancelled, true)).toEqual({ kind: 'cancelled' });
    expect(
      classify(
        job('FAILED', { error_type: 'RUNTIME_ENV_SETUP_FAILURE', message: 'pip failed' }),
        silent,
        false,
      ),
    ).toMatchObject({
      kind: 'failed',
      failure: { reason: 'external-service', message: expect.stringContaining('pip failed') },
    });
  });
});

describe("the cluster's capacity", () => {
  it('counts how many jobs of a demand fit, each on one node', () => {
    const nodes = [node({ CPU: 8, GPU: 2 }), node({ CPU: 4, GPU: 1 }), node({ CPU: 16 })];
    expect(capacity(nodes, { CPU: 2, GPU: 1 })).toBe(3);
    expect(capacity(nodes, { CPU: 2 })).toBe(4 + 2 + 8);
    expect(capacity([node({ CPU: 4 })], { CPU: 2, GPU: 1 })).toBe(0);
    // Jobs do not span nodes: two nodes of 1 CPU hold no 2-CPU job.
    expect(capacity([node({ CPU: 1 }), node({ CPU: 1 })], { CPU: 2 })).toBe(0);
  });
});

describe('the job code package', () => {
  it('zips the chosen files with relative paths and names itself after their content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-pkg-'));
    await mkdir(join(dir, 'pkg', '__pycache__'), { recursive: true });
    await writeFile(join(dir, 'pkg', 'a.py'), 'print(1)\n');
    await writeFile(join(dir, 'pkg', '__pycache__', 'a.pyc'), 'x');
    await writeFile(join(dir, 'notes.md'), 'not shipped');
    const include = (path: string) => path.endsWith('.py');
    const first = await packageFolder(dir, include);
    expect(first.uri).toMatch(/^gcs:\/\/_ray_pkg_[0-9a-f]{32}\.zip$/);
    expect(Object.keys(unzipSync(first.zip))).toEqual(['pkg/a.py']);
    expect(new TextDecoder().decode(unzipSync(first.zip)['pkg/a.py'])).toBe('print(1)\n');
    expect((await packageFolder(dir, include)).uri).toBe(first.uri);
    await writeFile(join(dir, 'pkg', 'a.py'), 'print(2)\n');
    expect((await packageFolder(dir, include)).uri).not.toBe(first.uri);
  });

  it('merges extra folders at the same level (the S3 stager beside the worker)', async () => {
    const worker = await mkdtemp(join(tmpdir(), 'dermatune-pkg-'));
    const stager = await mkdtemp(join(tmpdir(), 'dermatune-pkg-'));
    await mkdir(join(worker, 'w'));
    await mkdir(join(stager, 's'));
    await writeFile(join(worker, 'w', 'a.py'), 'worker');
    await writeFile(join(stager, 's', 'b.py'), 'stager');
    const include = (path: string) => path.endsWith('.py');
    const alone = await packageFolder(worker, include);
    const both = await packageFolder(worker, include, [{ dir: stager, include }]);
    expect(Object.keys(unzipSync(both.zip)).sort()).toEqual(['s/b.py', 'w/a.py']);
    expect(both.uri).not.toBe(alone.uri);
  });
});

describe('shared storage', () => {
  it('copies an input once per key and a folder once per content, whole or not at all', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dermatune-shared-'));
    const source = join(root, 'src');
    await mkdir(source);
    await writeFile(join(source, 'f.txt'), 'one');
    const storage = new SharedStorage(join(root, 'shared'));
    const path = await storage.shareInput('k1', source);
    expect(await readFile(join(path, 'f.txt'), 'utf8')).toBe('one');
    await writeFile(join(source, 'f.txt'), 'changed');
    // A key names immutable content: the first copy stays.
    expect(await storage.shareInput('k1', source)).toBe(path);
    expect(await readFile(join(path, 'f.txt'), 'utf8')).toBe('one');
    const a = await storage.shareFolder(source);
    expect(a.endsWith('/src')).toBe(true);
    await writeFile(join(source, 'f.txt'), 'again');
    expect(await storage.shareFolder(source)).not.toBe(a);
  });
});

describe('choosing the executor', () => {
  const spec = (executor?: unknown) => ({ name: 'x', ...(executor ? { executor } : {}) });

  it('is local unless the spec or --executor says ray', () => {
    expect(resolveExecutor([spec()], {}, {}, '/w')).toEqual({ ok: true, value: { kind: 'local' } });
  });

  it('takes the address from the spec, --ray-address or RAY_ADDRESS, the command line first', () => {
    const fromEnv = resolveExecutor(
      [spec()],
      { executor: 'ray', rayStorage: 'shared' },
      { RAY_ADDRESS: 'http://h:8265' },
      '/w',
    );
    expect(fromEnv).toMatchObject({
      ok: true,
      value: {
        kind: 'ray',
        ray: {
          address: 'http://h:8265',
          storage: { kind: 'shared', root: '/w/shared' },
          maxResubmits: 1,
          useGpus: true,
        },
      },
    });
    const both = resolveExecutor(
      [
        spec({
          kind: 'ray',
          ray: { address: 'http://spec:8265', storage: '/s', max_resubmits: 0 },
        }),
      ],
      { rayAddress: 'http://cli:8265' },
      { RAY_ADDRESS: 'http://env:8265' },
      '/w',
    );
    expect(both).toMatchObject({
      ok: true,
      value: {
        ray: {
          address: 'http://cli:8265',
          storage: { kind: 'shared', root: '/s' },
          maxResubmits: 0,
        },
      },
    });
  });

  it('takes s3://bucket/prefix as object storage, with its endpoint, region and addressing', () => {
    const ray = (storage: string, s3?: unknown) =>
      spec({ kind: 'ray', ray: { address: 'http://h:8265', storage, ...(s3 ? { s3 } : {}) } });
    expect(
      resolveExecutor(
        [ray('s3://my-bucket/runs/a/', { endpoint_url: 'http://minio:9000', path_style: true })],
        {},
        {},
        '/w',
      ),
    ).toMatchObject({
      ok: true,
      value: {
        ray: {
          storage: {
            kind: 's3',
            url: 's3://my-bucket/runs/a/',
            endpoint: 'http://minio:9000',
            pathStyle: true,
          },
        },
      },
    });
    // The SDKs' own endpoint variable is read too, so the jobs are told the same endpoint.
    expect(
      resolveExecutor([ray('s3://b-1')], {}, { AWS_ENDPOINT_URL_S3: 'https://r2.example' }, '/w'),
    ).toMatchObject({
      ok: true,
      value: { ray: { storage: { kind: 's3', endpoint: 'https://r2.example', pathStyle: false } } },
    });
    expect(resolveExecutor([ray('s3://Bad_Bucket/x')], {}, {}, '/w')).toMatchObject({
      ok: false,
      error: expect.stringContaining('neither a folder nor s3://bucket/prefix'),
    });
    expect(resolveExecutor([ray('gs://bucket/x')], {}, {}, '/w')).toMatchObject({ ok: false });
    expect(resolveExecutor([ray('/mnt/x', { region: 'eu-west-1' })], {}, {}, '/w')).toMatchObject({
      ok: false,
      error: expect.stringContaining('executor.ray.s3 is set'),
    });
  });

  it('explains what is missing or wrong', () => {
    expect(resolveExecutor([spec()], { executor: 'ray' }, {}, '/w')).toMatchObject({
      ok: false,
      error: expect.stringContaining('needs the cluster address'),
    });
    expect(
      resolveExecutor([spec()], { executor: 'ray' }, { RAY_ADDRESS: 'ray://h:10001' }, '/w'),
    ).toMatchObject({
      ok: false,
      error: expect.stringContaining("not the dashboard's HTTP address"),
    });
    expect(
      resolveExecutor([spec()], { executor: 'ray', rayAddress: 'http://h:8265' }, {}, '/w'),
    ).toMatchObject({ ok: false, error: expect.stringContaining('needs storage') });
    expect(resolveExecutor([spec()], { executor: 'slurm' }, {}, '/w')).toMatchObject({
      ok: false,
      error: expect.stringContaining('local or ray'),
    });
    expect(
      resolveExecutor([spec({ kind: 'ray' }), spec({ kind: 'local' })], {}, {}, '/w'),
    ).toMatchObject({
      ok: false,
      error: expect.stringContaining('variants of this sweep set it differently'),
    });
    const badHeaders = resolveExecutor(
      [spec()],
      { executor: 'ray', rayAddress: 'http://h:1', rayStorage: '/s' },
      { RAY_JOB_HEADERS: 'Bearer secret-token' },
      '/w',
    );
    expect(badHeaders).toMatchObject({ ok: false });
    expect(JSON.stringify(badHeaders)).not.toContain('secret-token');
  });
});
