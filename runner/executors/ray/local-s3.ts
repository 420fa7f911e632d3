import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { projectRoot } from '../../project-root.ts';
import { ensurePythonEnv } from '../../python-env.ts';
import { fail, ok, type Result } from '../../result.ts';
import { freeLoopbackPort } from '../../tracking/mlflow-server.ts';

/**
 * A real S3-protocol server on loopback for the tests and the benchmark: moto in server mode
 * (PyPI, pinned in `local-s3-requirements.txt`, its own venv `.dermatune/s3-server-venv`),
 * with IAM authentication on, so that a wrong key is refused as S3 refuses it.
 *
 * moto checks credentials only after `INITIAL_NO_AUTH_ACTION_COUNT` unauthenticated requests
 * (docs/docs/iam.rst in getmoto/moto); the set-up below makes exactly that many (bucket, user,
 * policy, access key), after which every request must be signed with the key it created.
 */
export const LOCAL_S3_REQUIREMENTS = join(
  dirname(fileURLToPath(import.meta.url)),
  'local-s3-requirements.txt',
);

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** The access key moto issued: for the runner's environment and the cluster's, never a spec. */
  credentials: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  stop(): Promise<void>;
}

const SETUP_REQUESTS = 4;

const SETUP = `
import boto3, json, sys
endpoint, bucket = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
boto3.client("s3", **kw).create_bucket(Bucket=bucket)
iam = boto3.client("iam", **kw)
iam.create_user(UserName="dermatune")
iam.put_user_policy(UserName="dermatune", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="dermatune")["AccessKey"]
print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
`;

export async function startLocalS3(
  options: { bucket?: string; log?: (line: string) => void } = {},
): Promise<Result<LocalS3, string>> {
  const bucket = options.bucket ?? 'dermatune-test';
  const env = await ensurePythonEnv(
    [LOCAL_S3_REQUIREMENTS],
    options.log,
    join(projectRoot(), '.dermatune', 's3-server-venv'),
  );
  if (!env.ok) return fail(env.error.message);
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    join(env.value.binDir, 'moto_server'),
    ['-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_REQUESTS) },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = () => stopChild(child);
  // Wait on the port without an HTTP request: each request would spend one of the set-up's.
  if (!(await portOpens(port, 60_000))) {
    await stop();
    return fail(`moto_server did not listen on ${endpoint} within 60 s: ${stderr.trim()}`);
  }
  try {
    const { stdout } = await promisify(execFile)(env.value.python, ['-c', SETUP, endpoint, bucket]);
    const key = JSON.parse(stdout) as { id: string; secret: string };
    return ok({
      endpoint,
      bucket,
      credentials: { AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret },
      stop,
    });
  } catch (error) {
    await stop();
    return fail(`setting up moto at ${endpoint} failed: ${(error as Error).message}`);
  }
}

function portOpens(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) resolve(false);
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
