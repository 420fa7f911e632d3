import {
  describeRequestError,
  type PreflightCheck,
  type PreflightContext,
} from '../../runner/preflight-check.ts';
import type { HubSource } from './biomedica-source.ts';
import { DEFAULT_HUB_ENDPOINT, hubResolveUrl } from './hub-download.ts';

/**
 * Proofs about the Hugging Face hub, made with the cheapest requests the hub has: the revision
 * API (`/api/{datasets,models}/<repo>/revision/<rev>`) for a repository and the commit a
 * revision names, and a HEAD of each file's resolve URL for files. A HEAD is what proves gated
 * access: the hub shows a gated repository's metadata to anyone but answers a file request
 * without a token 401 and with a token whose owner has not been granted access 403
 * (X-Error-Code: GatedRepo). HEADs do not follow the redirect to the CDN; the hub's own answer
 * carries the size (X-Linked-Size for LFS files).
 */
const CHECK_TIMEOUT_MS = 20_000;
/** HEADs in flight at once for a long shard list. */
const HEAD_CONCURRENCY = 8;
const COMMIT_ID = /^[0-9a-f]{40}$/;

export function hubEndpointFrom(
  env: Readonly<Record<string, string | undefined>>,
  endpoint?: string,
): string {
  return (endpoint ?? env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

/** The dataset's shards, as the run will fetch them, and their total size (for the estimate). */
export interface DatasetProof {
  checks: PreflightCheck[];
  /** Bytes the listed shards hold, when every HEAD answered with a size. */
  bytes?: number;
}

/** A hub source whose shards are listed by path (a selection resolved through the tree API). */
export type ListedHubSource = HubSource & { shards: string[] };

export function proveHubDataset(
  source: ListedHubSource,
  ctx: PreflightContext,
): Promise<DatasetProof> {
  const endpoint = hubEndpointFrom(ctx.env, source.endpoint);
  const tokenEnv = source.token_env ?? 'HF_TOKEN';
  return ctx.once(
    `hub-dataset|${endpoint}|${source.repo}|${source.revision}|${source.shards.join(',')}|${tokenEnv}`,
    async () => {
      const subject = `dataset ${source.repo}@${source.revision}`;
      const token = nonEmpty(ctx.env[tokenEnv]);
      if (!token) {
        return {
          checks: [
            failed(
              subject,
              `${tokenEnv} is not set; the dataset is gated and its files answer 401 without a token`,
              tokenEnv,
            ),
          ],
        };
      }
      const revision = await resolveRevision(
        'datasets',
        source.repo,
        source.revision,
        endpoint,
        token,
        ctx,
      );
      if (!revision.ok) {
        return {
          checks: [failed(subject, revision.detail, revision.setting ?? 'data.source.revision')],
        };
      }
      const revisionCheck: PreflightCheck = {
        part: 'hub',
        subject,
        outcome: 'passed',
        detail: `resolves to ${revision.sha}${COMMIT_ID.test(source.revision) ? '' : ' (pin data.source.revision to it for a reproducible key)'}`,
      };
      if (source.shards.length === 0) {
        return {
          checks: [
            revisionCheck,
            failed(`${source.repo} shards`, 'no shards listed', 'data.source.shards'),
          ],
        };
      }
      const heads = await mapLimited(source.shards, HEAD_CONCURRENCY, (path) =>
        headFile(hubResolveUrl(endpoint, source.repo, revision.sha, path), token, ctx),
      );
      const problems = heads.flatMap((head, i) =>
        head.ok ? [] : [`${source.shards[i]}: ${head.detail}`],
      );
      const shardSubject = `${source.shards.length} shard(s) of ${source.repo}`;
      if (problems.length > 0) {
        const refused = heads.find((h) => !h.ok && h.status !== undefined && h.status !== 404);
        const shown = problems.slice(0, 5).join('; ');
        return {
          checks: [
            revisionCheck,
            failed(
              shardSubject,
              `${problems.length} not readable: ${shown}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
              refused ? tokenEnv : 'data.source.shards',
            ),
          ],
        };
      }
      const sizes = heads.map((h) => (h.ok ? h.bytes : undefined));
      const bytes = sizes.every((s) => s !== undefined)
        ? sizes.reduce<number>((a, b) => a + (b ?? 0), 0)
        : undefined;
      return {
        checks: [
          revisionCheck,
          {
            part: 'hub',
            subject: shardSubject,
            outcome: 'passed',
            detail: `all readable with ${tokenEnv}${bytes !== undefined ? `, ${bytes} bytes in all` : ''}`,
          },
        ],
        ...(bytes !== undefined ? { bytes } : {}),
      };
    },
  );
}

/**
 * A model repository (a base VLM, an encoder) resolves at its revision. Public repositories
 * answer without a token; HF_TOKEN is sent when set, for private and gated ones.
 */
export function proveHubModel(
  repo: string,
  revision: string,
  setting: string,
  ctx: PreflightContext,
): Promise<PreflightCheck> {
  const endpoint = hubEndpointFrom(ctx.env);
  const token = nonEmpty(ctx.env.HF_TOKEN);
  return ctx.once(`hub-model|${endpoint}|${repo}|${revision}|${token ? 'token' : ''}`, async () => {
    const subject = `model ${repo}@${revision}`;
    const resolved = await resolveRevision('models', repo, revision, endpoint, token, ctx);
    if (!resolved.ok) return failed(subject, resolved.detail, resolved.setting ?? setting);
    return { part: 'hub', subject, outcome: 'passed', detail: `resolves to ${resolved.sha}` };
  });
}

type Resolved = { ok: true; sha: string } | { ok: false; detail: string; setting?: string };

async function resolveRevision(
  type: 'datasets' | 'models',
  repo: string,
  revision: string,
  endpoint: string,
  token: string | undefined,
  ctx: PreflightContext,
): Promise<Resolved> {
  const url = `${endpoint}/api/${type}/${repo}/revision/${encodeURIComponent(revision)}`;
  let response: Response;
  try {
    response = await ctx.fetch(url, { headers: bearer(token), signal: timeout(ctx) });
  } catch (error: unknown) {
    return {
      ok: false,
      detail: `could not reach ${endpoint}: ${describeRequestError(error)}`,
      setting: 'HF_ENDPOINT',
    };
  }
  if (response.ok) {
    const body = (await response.json().catch(() => ({}))) as { sha?: unknown };
    return typeof body.sha === 'string' && COMMIT_ID.test(body.sha)
      ? { ok: true, sha: body.sha }
      : { ok: false, detail: `${url}: no commit id in the answer` };
  }
  const code = response.headers.get('x-error-code');
  if (response.status === 401 || response.status === 403) {
    return {
      ok: false,
      detail: `HTTP ${response.status}${code ? ` ${code}` : ''}: not found, private, or the token is refused`,
      ...(token ? { setting: 'HF_TOKEN' } : {}),
    };
  }
  if (response.status === 404) {
    return {
      ok: false,
      detail: `HTTP 404${code ? ` ${code}` : ''}: no such repository or revision`,
    };
  }
  return { ok: false, detail: `HTTP ${response.status} from ${url}` };
}

type Head = { ok: true; bytes?: number } | { ok: false; status?: number; detail: string };

async function headFile(url: string, token: string, ctx: PreflightContext): Promise<Head> {
  let response: Response;
  try {
    response = await ctx.fetch(url, {
      method: 'HEAD',
      headers: bearer(token),
      redirect: 'manual',
      signal: timeout(ctx),
    });
  } catch (error: unknown) {
    return { ok: false, detail: describeRequestError(error) };
  }
  const code = response.headers.get('x-error-code');
  if (response.status >= 200 && response.status < 400) {
    const size = Number(
      response.headers.get('x-linked-size') ?? response.headers.get('content-length'),
    );
    return Number.isFinite(size) && size > 0 ? { ok: true, bytes: size } : { ok: true };
  }
  if (response.status === 403 || code === 'GatedRepo') {
    return {
      ok: false,
      status: response.status,
      detail: `HTTP ${response.status}: access not granted to this token (request access on the dataset's page)`,
    };
  }
  if (response.status === 401) {
    return { ok: false, status: 401, detail: 'HTTP 401: the token is refused' };
  }
  if (response.status === 404)
    return { ok: false, status: 404, detail: `missing (HTTP 404${code ? ` ${code}` : ''})` };
  return { ok: false, status: response.status, detail: `HTTP ${response.status}` };
}

function failed(subject: string, detail: string, setting?: string): PreflightCheck {
  return { part: 'hub', subject, outcome: 'failed', detail, ...(setting ? { setting } : {}) };
}

function bearer(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function timeout(ctx: PreflightContext): AbortSignal {
  return AbortSignal.any([ctx.signal, AbortSignal.timeout(CHECK_TIMEOUT_MS)]);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.length > 0 ? value : undefined;
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
