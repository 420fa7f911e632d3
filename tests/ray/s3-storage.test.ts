import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../runner/executors/ray/local-s3.ts';
import { S3_JOB_REQUIREMENTS, S3Storage } from '../../runner/executors/ray/s3-storage.ts';
import {
  downloadFile,
  downloadTree,
  fileSha256,
  PART_BYTES,
  readManifest,
  type S3Place,
  uploadTree,
} from '../../runner/executors/ray/s3-transfer.ts';
import { ensurePythonEnv } from '../../runner/python-env.ts';

/**
 * The S3 storage against a real S3-protocol server (moto, IAM authentication on) on loopback,
 * through a TCP relay that counts the bytes each way and can cut a connection once: multipart
 * uploads and ranged downloads that survive a cut without sending again what arrived, checksums
 * that refuse a changed object, and the up-front check's one-line refusals.
 */
let s3: LocalS3;
let relay: Relay;
let work: string;

interface Relay {
  endpoint: string;
  sent: { up: number; down: number };
  /** Cuts the connection that carries the byte number `at` in that direction, once. */
  cutOnce(direction: 'up' | 'down', at: number): void;
  cuts: number;
  reset(): void;
  close(): Promise<void>;
}

function startRelay(upstreamPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  let rule: { direction: 'up' | 'down'; at: number } | undefined;
  const relay: Relay = {
    endpoint: '',
    sent: { up: 0, down: 0 },
    cuts: 0,
    cutOnce(direction, at) {
      rule = { direction, at };
    },
    reset() {
      relay.sent = { up: 0, down: 0 };
      relay.cuts = 0;
      rule = undefined;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const pass = (direction: 'up' | 'down', from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        relay.sent[direction] += chunk.length;
        if (rule?.direction === direction && relay.sent[direction] >= rule.at) {
          rule = undefined;
          relay.cuts += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        to.write(chunk);
      });
    pass('up', client, upstream);
    pass('down', upstream, client);
    // A side that ends is ended on the other once its bytes are through; an error ends both.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      relay.endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      resolve(relay);
    }),
  );
}

function place(endpoint: string, secret = s3.credentials.AWS_SECRET_ACCESS_KEY): S3Place {
  return {
    bucket: s3.bucket,
    client: new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 5,
      credentials: { accessKeyId: s3.credentials.AWS_ACCESS_KEY_ID, secretAccessKey: secret },
    }),
  };
}

beforeAll(async () => {
  const started = await startLocalS3();
  if (!started.ok) throw new Error(started.error);
  s3 = started.value;
  relay = await startRelay(Number(new URL(s3.endpoint).port));
  work = await mkdtemp(join(tmpdir(), 'dermatune-s3-'));
}, 600_000);

afterAll(async () => {
  await relay?.close();
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const SIZE = 2 * PART_BYTES + 3 * 1024 * 1024; // three parts, the last one short

async function folderWithBigFile(name: string): Promise<{ dir: string; digest: string }> {
  const dir = join(work, name);
  await mkdir(join(dir, 'adapter'), { recursive: true });
  await writeFile(join(dir, 'adapter', 'weights.bin'), randomBytes(SIZE));
  await writeFile(join(dir, 'summary.json'), '{"n": 1}');
  return { dir, digest: await fileSha256(join(dir, 'adapter', 'weights.bin')) };
}

describe('S3 transfers against moto', { timeout: 300_000 }, () => {
  it('uploads a folder in parts with its manifest last, and downloads it checked', async () => {
    const { dir, digest } = await folderWithBigFile('plain');
    const via = place(relay.endpoint);
    relay.reset();
    await uploadTree(via, dir, 'plain/in');
    expect(relay.sent.up).toBeGreaterThanOrEqual(SIZE);
    const manifest = await readManifest(via, 'plain/in');
    expect(manifest?.files['adapter/weights.bin']).toEqual({ size: SIZE, sha256: digest });
    const back = join(work, 'plain-back');
    expect(await downloadTree(via, 'plain/in', back)).toEqual({ ok: true, value: undefined });
    expect(await fileSha256(join(back, 'adapter', 'weights.bin'))).toBe(digest);
    expect(await readFile(join(back, 'summary.json'), 'utf8')).toBe('{"n": 1}');
  });

  it('sends again only the part a cut connection carried, not the whole file', async () => {
    const { dir, digest } = await folderWithBigFile('cut-up');
    const via = place(relay.endpoint);
    relay.reset();
    relay.cutOnce('up', Math.floor(SIZE * 0.6));
    await uploadTree(via, dir, 'cut/up');
    expect(relay.cuts).toBe(1);
    // What arrived before the cut is not sent again: at most the cut part a second time.
    expect(relay.sent.up).toBeLessThan(SIZE + PART_BYTES + 1024 * 1024);
    const back = join(work, 'cut-up-back');
    expect((await downloadTree(place(s3.endpoint), 'cut/up', back)).ok).toBe(true);
    expect(await fileSha256(join(back, 'adapter', 'weights.bin'))).toBe(digest);
  });

  it('continues a download cut mid-body from the first missing byte, and a .part left before', async () => {
    const { dir, digest } = await folderWithBigFile('cut-down');
    await uploadTree(place(s3.endpoint), dir, 'cut/down');
    const entry = { size: SIZE, sha256: digest };
    const via = place(relay.endpoint);
    relay.reset();
    relay.cutOnce('down', Math.floor(SIZE * 0.6));
    const dest = join(work, 'cut-down-back', 'weights.bin');
    expect(await downloadFile(via, 'cut/down/adapter/weights.bin', dest, entry)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(relay.cuts).toBe(1);
    expect(relay.sent.down).toBeLessThan(SIZE + 1024 * 1024);
    expect(await fileSha256(dest)).toBe(digest);

    // A .part from an earlier, interrupted run: only the rest is asked for.
    const again = join(work, 'part-back', 'weights.bin');
    await mkdir(join(work, 'part-back'), { recursive: true });
    const head = (await readFile(join(dir, 'adapter', 'weights.bin'))).subarray(
      0,
      10 * 1024 * 1024,
    );
    await writeFile(`${again}.part`, head);
    relay.reset();
    expect((await downloadFile(via, 'cut/down/adapter/weights.bin', again, entry)).ok).toBe(true);
    expect(relay.sent.down).toBeLessThan(SIZE - head.length + 1024 * 1024);
    expect(await fileSha256(again)).toBe(digest);
  });

  it('refuses an object whose bytes are not the manifest’s, and keeps no file of it', async () => {
    const { dir } = await folderWithBigFile('tampered');
    const direct = place(s3.endpoint);
    await uploadTree(direct, dir, 'tampered/in');
    await direct.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: 'tampered/in/summary.json',
        Body: '{"n": 2}',
      }),
    );
    const back = join(work, 'tampered-back');
    const got = await downloadTree(direct, 'tampered/in', back);
    expect(got).toMatchObject({ ok: false, error: { reason: 'checksum-mismatch' } });
    await expect(stat(join(back, 'summary.json'))).rejects.toThrow();
    await expect(stat(join(back, 'summary.json.part'))).rejects.toThrow();
  });
});

describe('the S3 job storage', { timeout: 120_000 }, () => {
  const storage = (url: string, env: Record<string, string>) => {
    Object.assign(process.env, env);
    return new S3Storage({ url, endpoint: s3.endpoint, pathStyle: true }, {});
  };

  it('puts an input once per key, and adopts a job output only under its own key', async () => {
    const store = storage(`s3://${s3.bucket}/jobs-test`, s3.credentials);
    const { dir } = await folderWithBigFile('input');
    expect(await store.shareInput('k1', dir)).toBe('/dermatune-storage/inputs/k1');
    await writeFile(join(dir, 'summary.json'), 'changed');
    expect(await store.shareInput('k1', dir)).toBe('/dermatune-storage/inputs/k1');
    const manifest = await readManifest(place(s3.endpoint), 'jobs-test/inputs/k1');
    expect(manifest?.files['summary.json']?.size).toBe('{"n": 1}'.length);

    const jobDir = store.jobDir('job-1');
    expect(await store.hasJob(jobDir)).toBe(false);
    await store.putJobFile(jobDir, 'stage-key', 'key-a');
    expect(await store.hasJob(jobDir)).toBe(true);
    await uploadTree(place(s3.endpoint), dir, 'jobs-test/jobs/job-1/output');
    expect(await store.collect(jobDir, 'key-b', join(work, 'wrong'))).toMatchObject({
      ok: false,
      error: expect.stringContaining('not of key-b'),
    });
    expect((await store.collect(jobDir, 'key-a', join(work, 'right'))).ok).toBe(true);
    expect(await readFile(join(work, 'right', 'summary.json'), 'utf8')).toBe('changed');
    await store.discardJob(jobDir);
    expect(await store.hasJob(jobDir)).toBe(false);
  });

  it('refuses a wrong bucket, a wrong secret and an unknown key id in one line each', async () => {
    expect(await storage(`s3://${s3.bucket}/p`, s3.credentials).check()).toEqual({
      ok: true,
      value: undefined,
    });
    expect(await storage('s3://no-such-bucket/p', s3.credentials).check()).toEqual({
      ok: false,
      error: `the bucket no-such-bucket does not exist at ${s3.endpoint} (executor.ray.storage: s3://no-such-bucket/p)`,
    });
    const wrongSecret = await storage(`s3://${s3.bucket}/p`, {
      ...s3.credentials,
      AWS_SECRET_ACCESS_KEY: 'wrong',
    }).check();
    expect(wrongSecret).toEqual({
      ok: false,
      error: `${s3.endpoint} refused the credentials for s3://${s3.bucket}/p (SignatureDoesNotMatch); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
    });
    const unknownKey = await storage(`s3://${s3.bucket}/p`, {
      AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000',
      AWS_SECRET_ACCESS_KEY: 'wrong',
    }).check();
    expect(unknownKey).toMatchObject({
      ok: false,
      error: expect.stringContaining('(InvalidAccessKeyId)'),
    });
    Object.assign(process.env, s3.credentials);
  });
});

describe('the job-side stager (boto3) against moto', { timeout: 300_000 }, () => {
  // A stand-in for the worker: reads its localized job, checkpoints, and on the second attempt
  // finds the first attempt's checkpoint and writes its output.
  const STAND_IN = `
import json, os, sys
job = json.load(open(sys.argv[1]))
assert not job["input"].startswith("/dermatune-storage"), job
assert open(os.path.join(job["input"], "summary.json")).read() == '{"n": 1}'
step = os.path.join(job["checkpoint_dir"], "train", "step-00000002")
if not os.path.exists(os.path.join(step, "state.txt")):
    os.makedirs(step)
    open(os.path.join(step, "state.txt"), "w").write("two steps")
    print(json.dumps({"event": "error", "kind": "internal", "message": "first attempt lost"}))
    sys.exit(1)
open(os.path.join(job["output_dir"], "result.txt"), "w").write("resumed at " + open(os.path.join(step, "state.txt")).read())
print(json.dumps({"event": "done", "summary": {}}))
`;

  it('fetches what the job reads, keeps its checkpoints across attempts, and uploads its output', async () => {
    const venv = await ensurePythonEnv([S3_JOB_REQUIREMENTS]);
    if (!venv.ok) throw new Error(venv.error.message);
    Object.assign(process.env, s3.credentials);
    const store = new S3Storage(
      { url: `s3://${s3.bucket}/stager`, endpoint: s3.endpoint, pathStyle: true },
      {},
    );
    const { dir } = await folderWithBigFile('stager-input');
    const input = await store.shareInput('in-key', dir);
    const script = join(work, 'stand_in.py');
    await writeFile(script, STAND_IN);
    const attempt = async (id: string) => {
      const paths = store.jobPaths(id, 'train-key');
      const jobDir = store.jobDir(id);
      await store.putJobFile(jobDir, 'stage-key', 'train-key');
      const jobFile = await store.putJobFile(
        jobDir,
        'job.json',
        JSON.stringify({ input, output_dir: paths.outDir, checkpoint_dir: paths.resumeDir }),
      );
      const command = await store.jobCommand(`python ${script} ${jobFile}`, paths, [input]);
      const [, ...args] = command.entrypoint.split(' ').filter((part) => part !== '');
      // The cluster's own environment carries the key; the command names none.
      expect(command.entrypoint).not.toContain(s3.credentials.AWS_SECRET_ACCESS_KEY);
      const run = await promisify(execFile)(venv.value.python, args, {
        // Where Ray unpacks the job's code package: the stager's package at the top.
        cwd: dirname(S3_JOB_REQUIREMENTS),
        env: { ...process.env, PATH: `${venv.value.binDir}:${process.env.PATH ?? ''}` },
      }).then(
        (done) => ({ code: 0, stdout: done.stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
      return { run, jobDir };
    };
    const first = await attempt('attempt-1');
    expect(first.run.code).toBe(1);
    expect(first.run.stdout).toContain('first attempt lost');
    expect(await store.collect(first.jobDir, 'train-key', join(work, 'none'))).toMatchObject({
      ok: false,
    });
    const second = await attempt('attempt-2');
    expect(second.run.code, second.run.stdout).toBe(0);
    const out = join(work, 'stager-out');
    expect(await store.collect(second.jobDir, 'train-key', out)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(await readFile(join(out, 'result.txt'), 'utf8')).toBe('resumed at two steps');
    await store.removeResume('train-key');
    expect(await readManifest(place(s3.endpoint), 'stager/resume/train-key')).toBeUndefined();
  });
});
