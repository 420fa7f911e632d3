import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fail, ok, type Result } from '../result.ts';
import type { JsonSchema } from '../spec-schema.ts';
import type { RayExecutorSettings, StorageSetting } from './ray/ray-executor.ts';
import { parseS3Url } from './ray/s3-url.ts';

/**
 * Where stages run: here (`local`) or, for the heavy ones, on a Ray cluster. This is a setting
 * of the run, not of the experiment: no stage reads it, so it never enters a key, and a sweep
 * run on a cluster reuses what a local run stored and the other way round.
 */
/** The defaults of `executor.ray`, for the schema and for a spec that has no such section. */
const RAY_DEFAULTS = { use_gpus: true, max_resubmits: 1, heavy_cpus: 4 } as const;

export const executorSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'Where stages run. Not part of any stage key: local and cluster runs share the store.',
  properties: {
    kind: {
      enum: ['local', 'ray'],
      default: 'local',
      description:
        'local: every stage here; ray: stages that declare a GPU or heavy CPU need go to a Ray cluster as jobs (--executor).',
    },
    ray: {
      type: 'object',
      additionalProperties: false,
      properties: {
        address: {
          type: 'string',
          pattern: '^https?://',
          description:
            "The Ray dashboard's HTTP address, e.g. http://head:8265 (default: $RAY_API_SERVER_ADDRESS or $RAY_ADDRESS; --ray-address).",
        },
        storage: {
          type: 'string',
          minLength: 1,
          'x-relative-path': true,
          description:
            'Where jobs read inputs and write outputs (--ray-storage): a folder this machine and every cluster node see at the same path (NFS, a cluster file system), or an S3-compatible bucket, s3://bucket/prefix.',
        },
        s3: {
          type: 'object',
          additionalProperties: false,
          description:
            "How to reach an s3:// storage. Credentials are never set here: the standard AWS environment variables and profiles on this machine, the cluster nodes' own environment for jobs.",
          properties: {
            endpoint_url: {
              type: 'string',
              pattern: '^https?://',
              description:
                'An S3-compatible endpoint (MinIO, Ceph, R2, GCS interoperability), e.g. http://minio:9000 (default: AWS, or $AWS_ENDPOINT_URL_S3).',
            },
            region: {
              type: 'string',
              minLength: 1,
              description:
                "The region to sign for (default: $AWS_REGION, the profile's, or us-east-1 with an endpoint_url).",
            },
            path_style: {
              type: 'boolean',
              default: false,
              description:
                'Path-style addressing (endpoint/bucket/key), which MinIO and Ceph usually need.',
            },
          },
        },
        use_gpus: {
          type: 'boolean',
          default: RAY_DEFAULTS.use_gpus,
          description: 'GPU stages ask Ray for GPUs; false runs them on CPU nodes.',
        },
        max_resubmits: {
          type: 'integer',
          minimum: 0,
          default: RAY_DEFAULTS.max_resubmits,
          description:
            'How often a job that ended without a result (its node lost, stopped from outside) is submitted again; 0 fails the stage instead.',
        },
        max_jobs: {
          type: 'integer',
          minimum: 1,
          description:
            "At most this many jobs at once (default: as many as the cluster's nodes hold).",
        },
        heavy_cpus: {
          type: 'integer',
          minimum: 1,
          default: RAY_DEFAULTS.heavy_cpus,
          description:
            'A stage declaring this many CPUs or more goes to the cluster even without a GPU.',
        },
      },
    },
  },
};

export type ExecutorChoice = { kind: 'local' } | { kind: 'ray'; ray: RayExecutorSettings };

export interface ExecutorOverrides {
  executor?: string;
  rayAddress?: string;
  rayStorage?: string;
}

interface ExecutorSection {
  kind?: 'local' | 'ray';
  ray?: {
    address?: string;
    storage?: string;
    s3?: { endpoint_url?: string; region?: string; path_style?: boolean };
    use_gpus?: boolean;
    max_resubmits?: number;
    max_jobs?: number;
    heavy_cpus?: number;
  };
}

/**
 * The executor from the spec's `executor` section, the command line (which wins) and the
 * environment (the cluster address). Every variant must agree: the executor is the run's.
 */
export function resolveExecutor(
  specs: readonly Record<string, unknown>[],
  overrides: ExecutorOverrides,
  env: Record<string, string | undefined>,
  cwd: string,
): Result<ExecutorChoice, string> {
  const sections = specs.map((spec) => (spec.executor ?? {}) as ExecutorSection);
  const first = sections[0] ?? {};
  if (sections.some((section) => !isDeepStrictEqual(section, first))) {
    return fail('executor: variants of this sweep set it differently; it belongs to the whole run');
  }
  const kind = overrides.executor ?? first.kind ?? 'local';
  if (kind === 'local') return ok({ kind: 'local' });
  if (kind !== 'ray') return fail(`--executor must be local or ray (got ${JSON.stringify(kind)})`);
  const ray = first.ray ?? {};
  const address =
    overrides.rayAddress ?? ray.address ?? env.RAY_API_SERVER_ADDRESS ?? env.RAY_ADDRESS;
  if (address === undefined) {
    return fail(
      'the ray executor needs the cluster address: executor.ray.address in the spec, --ray-address, or RAY_ADDRESS (the dashboard, e.g. http://head:8265)',
    );
  }
  if (!/^https?:\/\//.test(address)) {
    return fail(
      `the Ray address ${JSON.stringify(address)} is not the dashboard's HTTP address (http://head:8265) that the Jobs API answers on`,
    );
  }
  const storage = overrides.rayStorage ?? ray.storage;
  if (storage === undefined) {
    return fail(
      'the ray executor needs storage: executor.ray.storage in the spec or --ray-storage (a folder this machine and the cluster nodes see at the same path, or s3://bucket/prefix)',
    );
  }
  const place = storageSetting(storage, ray.s3, env, cwd);
  if (!place.ok) return place;
  const headers = parseHeaders(env.RAY_JOB_HEADERS);
  if (!headers.ok) return headers;
  return ok({
    kind: 'ray',
    ray: {
      address,
      storage: place.value,
      useGpus: ray.use_gpus ?? RAY_DEFAULTS.use_gpus,
      maxResubmits: ray.max_resubmits ?? RAY_DEFAULTS.max_resubmits,
      maxJobs: ray.max_jobs,
      heavyCpus: ray.heavy_cpus ?? RAY_DEFAULTS.heavy_cpus,
      headers: headers.value,
    },
  });
}

/** A folder (relative to where the command runs), or an s3:// bucket with its `executor.ray.s3`. */
function storageSetting(
  storage: string,
  s3: NonNullable<ExecutorSection['ray']>['s3'],
  env: Record<string, string | undefined>,
  cwd: string,
): Result<StorageSetting, string> {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(storage)) {
    if (s3 !== undefined) {
      return fail(
        'executor.ray.s3 is set but executor.ray.storage is a folder, not s3://bucket/prefix',
      );
    }
    return ok({ kind: 'shared', root: resolve(cwd, storage) });
  }
  if (parseS3Url(storage) === undefined) {
    return fail(
      `the Ray storage ${JSON.stringify(storage)} is neither a folder nor s3://bucket/prefix (a lower-case bucket name of 3-63 characters)`,
    );
  }
  // AWS_ENDPOINT_URL_S3 is the SDKs' own setting; read here too so that jobs are told the same.
  const endpoint = s3?.endpoint_url ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return ok({
    kind: 's3',
    url: storage,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(s3?.region !== undefined ? { region: s3.region } : {}),
    pathStyle: s3?.path_style ?? false,
  });
}

/** RAY_JOB_HEADERS, as Ray's CLI reads it: a JSON object of header names to values. */
function parseHeaders(
  text: string | undefined,
): Result<Record<string, string> | undefined, string> {
  if (text === undefined) return ok(undefined);
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return ok(value as Record<string, string>);
    }
  } catch {
    // Reported below; the value itself may hold a token, so it is not echoed.
  }
  return fail('RAY_JOB_HEADERS must be a JSON object of header names to values');
}
