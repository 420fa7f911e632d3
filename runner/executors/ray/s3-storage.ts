import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { fail, ok, type Result } from '../../result.ts';
import type { JobCommand, JobPaths, JobStorage } from './job-storage.ts';
import {
  deletePrefix,
  downloadTree,
  MANIFEST_NAME,
  readManifest,
  type S3Place,
  uploadTree,
} from './s3-transfer.ts';
import { parseS3Url } from './s3-url.ts';
import { folderDigest } from './shared-storage.ts';

/**
 * An S3-compatible bucket (AWS, GCS's S3 interoperability, MinIO, Ceph, R2) as the Ray
 * executor's storage, for clusters without a shared file system. Same layout as
 * `SharedStorage`, under `s3://bucket/prefix/`:
 *
 *   inputs/<key>/...             a stored output a job reads, uploaded once per key
 *   shared/<digest>/<name>/...   a local folder (a model), uploaded once by content
 *   jobs/<submission id>/        job.json, stage-key, output/... (the job's own prefix)
 *   resume/<key>/...             the key's checkpoints, synced by the job as it writes them
 *
 * A job is handed paths under `JOB_ROOT`; its stager (`s3-job/dermatune_s3_stage`, boto3)
 * downloads what it reads into a scratch folder, maps `JOB_ROOT` onto it, runs the command,
 * and uploads its output (manifest last). Credentials come from the standard AWS chain here
 * (environment, profiles) and from the cluster's own environment there (node env, instance
 * roles); they are never put in a job's runtime env, command or metadata.
 */
export interface S3StorageSettings {
  /** `s3://bucket/prefix`. */
  url: string;
  /** An S3-compatible endpoint (`https://minio:9000`); default: the SDK's (AWS, or AWS_ENDPOINT_URL_S3). */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), as MinIO and Ceph usually want. */
  pathStyle: boolean;
}

/** Where a job sees the storage; its stager maps this onto its scratch copy. */
export const JOB_ROOT = '/dermatune-storage';

/** Attempts of each S3 request, by the SDK's standard retry strategy (backoff, throttling). */
const S3_MAX_ATTEMPTS = 5;

const STAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 's3-job');
export const S3_JOB_REQUIREMENTS = join(STAGE_DIR, 'requirements.txt');

export class S3Storage implements JobStorage {
  readonly where: string;
  readonly #settings: S3StorageSettings;
  readonly #place: S3Place;
  readonly #prefix: string;

  constructor(settings: S3StorageSettings, env: Record<string, string | undefined>) {
    const parsed = parseS3Url(settings.url);
    if (parsed === undefined) throw new Error(`not an s3:// URL: ${settings.url}`);
    this.#settings = settings;
    this.#prefix = parsed.prefix;
    this.where = `s3://${parsed.bucket}${parsed.prefix ? `/${parsed.prefix}` : ''}`;
    const region =
      settings.region ??
      env.AWS_REGION ??
      env.AWS_DEFAULT_REGION ??
      // An S3-compatible server names no region; SigV4 still needs one.
      (settings.endpoint !== undefined ? 'us-east-1' : undefined);
    this.#place = {
      bucket: parsed.bucket,
      client: new S3Client({
        ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
        ...(region !== undefined ? { region } : {}),
        forcePathStyle: settings.pathStyle,
        maxAttempts: S3_MAX_ATTEMPTS,
        retryMode: 'standard',
      }),
    };
  }

  /** One read and one write under the prefix: a wrong bucket or refused credentials show here. */
  async check(): Promise<Result<void, string>> {
    const probe = this.#key('.dermatune-probe');
    try {
      await this.#place.client.send(
        new ListObjectsV2Command({ Bucket: this.#place.bucket, Prefix: this.#key(''), MaxKeys: 1 }),
      );
      await this.#place.client.send(
        new PutObjectCommand({ Bucket: this.#place.bucket, Key: probe, Body: 'probe' }),
      );
      await this.#place.client.send(
        new DeleteObjectCommand({ Bucket: this.#place.bucket, Key: probe }),
      );
      return ok(undefined);
    } catch (error) {
      return fail(this.#explain(error));
    }
  }

  jobDir(submissionId: string): string {
    return `${this.where}/jobs/${submissionId}`;
  }

  jobPaths(submissionId: string, key: string): JobPaths {
    const jobDir = `${JOB_ROOT}/jobs/${submissionId}`;
    return { jobDir, outDir: `${jobDir}/output`, resumeDir: `${JOB_ROOT}/resume/${key}` };
  }

  async putJobFile(jobDir: string, name: string, content: string): Promise<string> {
    const relative = this.#relative(jobDir);
    await this.#place.client.send(
      new PutObjectCommand({
        Bucket: this.#place.bucket,
        Key: this.#key(`${relative}/${name}`),
        Body: content,
      }),
    );
    return `${JOB_ROOT}/${relative}/${name}`;
  }

  async shareInput(key: string, outputDir: string): Promise<string> {
    return this.#uploadOnce(`inputs/${key}`, outputDir);
  }

  async shareFolder(localDir: string): Promise<string> {
    const digest = (await folderDigest(localDir)).slice(0, 20);
    return this.#uploadOnce(`shared/${digest}/${basename(localDir)}`, localDir);
  }

  async hasJob(jobDir: string): Promise<boolean> {
    try {
      await this.#place.client.send(
        new HeadObjectCommand({
          Bucket: this.#place.bucket,
          Key: this.#key(`${this.#relative(jobDir)}/stage-key`),
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }

  async collect(jobDir: string, key: string, outDir: string): Promise<Result<void, string>> {
    const relative = this.#relative(jobDir);
    let recorded: string;
    try {
      const got = await this.#place.client.send(
        new GetObjectCommand({
          Bucket: this.#place.bucket,
          Key: this.#key(`${relative}/stage-key`),
        }),
      );
      recorded = (
        await (got.Body as { transformToString(): Promise<string> }).transformToString()
      ).trim();
    } catch {
      return fail(`its folder ${jobDir} is gone from the bucket`);
    }
    if (recorded !== key) {
      return fail(
        `it wrote the output of ${recorded.slice(0, 12)}, not of ${key.slice(0, 12)}; not adopted`,
      );
    }
    const got = await downloadTree(this.#place, this.#key(`${relative}/output`), outDir);
    if (!got.ok) {
      return fail(
        got.error.reason === 'missing'
          ? `it left no complete output under ${jobDir}/output/ (no ${MANIFEST_NAME})`
          : got.error.message,
      );
    }
    return ok(undefined);
  }

  async discardJob(jobDir: string): Promise<void> {
    await deletePrefix(this.#place, this.#key(this.#relative(jobDir)));
  }

  async removeResume(key: string): Promise<void> {
    await deletePrefix(this.#place, this.#key(`resume/${key}`));
  }

  async jobCommand(
    command: string,
    paths: JobPaths,
    fetched: readonly string[],
  ): Promise<JobCommand> {
    const underRoot = (path: string) => path.slice(JOB_ROOT.length + 1);
    const { endpoint, region, pathStyle } = this.#settings;
    const args = [
      ...['python', '-m', 'dermatune_s3_stage', '--storage', this.where, '--root', JOB_ROOT],
      ...['--manifest', MANIFEST_NAME],
      ...(endpoint !== undefined ? ['--endpoint-url', endpoint] : []),
      ...(region !== undefined ? ['--region', region] : []),
      ...(pathStyle ? ['--path-style'] : []),
      ...['--job', underRoot(paths.jobDir), '--resume', underRoot(paths.resumeDir)],
      ...fetched.flatMap((path) => ['--fetch', underRoot(path)]),
    ];
    return {
      entrypoint: `${args.map(shellQuote).join(' ')} -- ${command}`,
      code: [
        {
          dir: STAGE_DIR,
          include: (path) =>
            path.startsWith('dermatune_s3_stage/') &&
            path.endsWith('.py') &&
            !path.includes('__pycache__'),
        },
      ],
      // The stager's pinned boto3, for the job's runtime env.
      requirements: (await readFile(S3_JOB_REQUIREMENTS, 'utf8'))
        .split('\n')
        .map((line) => line.replace(/#.*/, '').trim())
        .filter(Boolean),
    };
  }

  async #uploadOnce(relative: string, localDir: string): Promise<string> {
    const prefix = this.#key(relative);
    // The manifest is written last: a prefix with one is complete, and is not sent again.
    if ((await readManifest(this.#place, prefix)) === undefined) {
      await uploadTree(this.#place, localDir, prefix);
    }
    return `${JOB_ROOT}/${relative}`;
  }

  /** A location under the storage (`s3://bucket/prefix/jobs/x`) relative to it (`jobs/x`). */
  #relative(location: string): string {
    return location.startsWith(`${this.where}/`) ? location.slice(this.where.length + 1) : location;
  }

  #key(relative: string): string {
    return this.#prefix ? `${this.#prefix}/${relative}` : relative;
  }

  /** One line for a refusal, naming the setting; never the server's text (it may echo a key id). */
  #explain(error: unknown): string {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    const at = this.#settings.endpoint ?? 'AWS S3';
    if (name === 'NoSuchBucket') {
      return `the bucket ${this.#place.bucket} does not exist at ${at} (executor.ray.storage: ${this.where})`;
    }
    if (
      name === 'InvalidAccessKeyId' ||
      name === 'SignatureDoesNotMatch' ||
      name === 'AccessDenied' ||
      name === 'InvalidToken' ||
      name === 'ExpiredToken' ||
      $metadata?.httpStatusCode === 403
    ) {
      return `${at} refused the credentials for ${this.where} (${name ?? 'HTTP 403'}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`;
    }
    if (name === 'CredentialsProviderError') {
      return `no S3 credentials for ${this.where}: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`;
    }
    return `the S3 storage ${this.where} at ${at} does not answer: ${name ?? 'error'}: ${(error as Error).message}`;
  }
}

function shellQuote(text: string): string {
  return /^[\w./@:=-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
