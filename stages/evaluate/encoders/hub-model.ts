import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fail, ok, type Result } from '../../../runner/result.ts';
import {
  downloadHubFile,
  type HubDownloadFailure,
  type HubRetryPolicy,
  hubFileMetadata,
  hubRevisionFolder,
} from '../../biomedica/hub-download.ts';
import type { HubAccess } from '../../shared/hub-access.ts';

/**
 * An encoder's model repository on the Hugging Face hub: its revision resolved to a commit
 * (the model info API, `/api/models/<repo>/revision/<rev>`, which follows a renamed repo to its
 * new id), and the files the export needs downloaded into a cache laid out per commit, each
 * resumable and checked against the hub's size and etag. A branch's commit is remembered in
 * `refs/`, as huggingface_hub does, so an offline machine finds what it downloaded before.
 */
export interface HubModelRevision {
  /** The id the hub answers with (a renamed repo's new id). */
  repo: string;
  commit: string;
  /** Repository paths the export reads. */
  files: string[];
}

export interface HubModelFailure {
  reason:
    | 'hub-unreachable'
    | 'hub-unauthorized'
    | 'hub-not-found'
    | 'hub-unusable-model'
    /** A file's bytes differ from the hub's size or hash (nothing of it is kept). */
    | 'hub-corrupt-download';
  message: string;
}

const COMMIT_ID = /^[0-9a-f]{40}$/;
/** The model info API answers in milliseconds; a hang means the network is gone. */
const API_TIMEOUT_MS = 30_000;
/** Always needed: the architecture, and the tokenizer the TypeScript side runs. */
const REQUIRED = ['config.json', 'tokenizer.json'];
/** Read when the repository has them (sentence-transformers configs say how to pool). */
const OPTIONAL = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  '1_Pooling/config.json',
];
/** One weights file, the safe format first (a pickle is read only when it is all there is). */
const WEIGHTS = ['model.safetensors', 'pytorch_model.bin'];

export async function resolveHubModel(
  repo: string,
  revision: string,
  access: HubAccess,
): Promise<Result<HubModelRevision, HubModelFailure>> {
  const url = `${access.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  let response: Response;
  try {
    // fetch keeps the token on a same-origin redirect (a renamed repo) and drops it across.
    response = await fetch(url, {
      headers: access.token ? { authorization: `Bearer ${access.token}` } : {},
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
  } catch (error: unknown) {
    const cause = error instanceof Error ? String(error.cause ?? error.message) : String(error);
    return fail({ reason: 'hub-unreachable', message: `${url}: ${cause}` });
  }
  if (!response.ok) {
    await response.body?.cancel();
    return fail(statusFailure(response, repo, revision, access));
  }
  const body = (await response.json().catch(() => ({}))) as {
    id?: unknown;
    sha?: unknown;
    siblings?: { rfilename?: unknown }[];
  };
  if (typeof body.sha !== 'string' || !COMMIT_ID.test(body.sha) || !Array.isArray(body.siblings)) {
    return fail({ reason: 'hub-unreachable', message: `${url}: no commit id or file list` });
  }
  const present = new Set(
    body.siblings.map((s) => s.rfilename).filter((f) => typeof f === 'string'),
  );
  const missing = REQUIRED.filter((file) => !present.has(file));
  const weights = WEIGHTS.find((file) => present.has(file));
  if (missing.length > 0 || !weights) {
    return fail({
      reason: 'hub-unusable-model',
      message:
        `${repo}@${revision} lacks ${[...missing, ...(weights ? [] : [WEIGHTS.join(' or ')])].join(', ')}; ` +
        'the encoder needs a transformers model with a tokenizer.json',
    });
  }
  return ok({
    repo: typeof body.id === 'string' ? body.id : repo,
    commit: body.sha,
    files: [...REQUIRED, ...OPTIONAL.filter((file) => present.has(file)), weights],
  });
}

function statusFailure(
  response: Response,
  repo: string,
  revision: string,
  access: HubAccess,
): HubModelFailure {
  const code = response.headers.get('x-error-code');
  const status = `HTTP ${response.status}${code ? ` ${code}` : ''}`;
  if (response.status === 404) {
    const what = code === 'RevisionNotFound' ? `revision '${revision}' of ${repo}` : repo;
    return { reason: 'hub-not-found', message: `${status}: the hub has no ${what}` };
  }
  if (response.status === 401 || response.status === 403) {
    const hint = access.token
      ? 'HF_TOKEN was refused or has no access to it'
      : 'it is private or gated: set HF_TOKEN to a token with access';
    return { reason: 'hub-unauthorized', message: `${status} for ${repo}: ${hint}` };
  }
  return { reason: 'hub-unreachable', message: `${status} from the model info API for ${repo}` };
}

/**
 * Proves the token may read the files, not only the model card (a gated model's card is
 * public): a HEAD of each file, which also tells how many bytes a download brings.
 */
export async function hubModelDownloadBytes(
  model: HubModelRevision,
  access: HubAccess,
): Promise<Result<number, HubModelFailure>> {
  let total = 0;
  for (const path of model.files) {
    const head = await hubFileMetadata({
      endpoint: access.endpoint,
      repo: model.repo,
      repoType: 'model',
      revision: model.commit,
      path,
      token: access.token,
    });
    if (!head.ok) {
      const reason = head.error.reason === 'unauthorized' ? 'hub-unauthorized' : 'hub-not-found';
      return fail({
        reason: head.error.reason === 'unreachable' ? 'hub-unreachable' : reason,
        message: `${model.repo}/${path}: ${head.error.message}`,
      });
    }
    total += head.value.bytes ?? 0;
  }
  return ok(total);
}

export interface DownloadOptions {
  cacheDir: string;
  log: (line: string) => void;
  retry?: Partial<HubRetryPolicy>;
}

/** Downloads the revision's files (those already cached are kept); the snapshot folder. */
export async function downloadHubModel(
  model: HubModelRevision,
  access: HubAccess,
  options: DownloadOptions,
): Promise<Result<string, HubModelFailure>> {
  for (const path of model.files) {
    let reported = -1;
    const file = await downloadHubFile({
      endpoint: access.endpoint,
      repo: model.repo,
      repoType: 'model',
      revision: model.commit,
      path,
      token: access.token,
      cacheDir: options.cacheDir,
      retry: options.retry,
      onAttempt: (note) => options.log(`${model.repo}/${path}: ${note}`),
      onProgress: (bytes, total) => {
        // A line per tenth: enough to see a 1.4 GB download move, few enough for a log.
        const tenth = total ? Math.floor((10 * bytes) / total) : -1;
        if (tenth <= reported) return;
        reported = tenth;
        options.log(`${model.repo}/${path}: ${megabytes(bytes)} of ${megabytes(total ?? 0)} MB`);
      },
    });
    if (!file.ok) return fail(downloadFailure(file.error, model, path));
  }
  return ok(snapshotFolder(options.cacheDir, model.repo, model.commit));
}

function downloadFailure(
  failure: HubDownloadFailure,
  model: HubModelRevision,
  path: string,
): HubModelFailure {
  const message = `${model.repo}@${model.commit} ${path}: ${failure.message}`;
  if (failure.reason === 'unauthorized') return { reason: 'hub-unauthorized', message };
  if (failure.reason === 'not-found') return { reason: 'hub-not-found', message };
  if (failure.reason === 'checksum-mismatch') return { reason: 'hub-corrupt-download', message };
  return { reason: 'hub-unreachable', message };
}

export function snapshotFolder(cacheDir: string, repo: string, commit: string): string {
  return join(cacheDir, hubRevisionFolder(repo, commit, 'model'));
}

/** Where a branch's last resolved commit is kept: `models--<owner>--<name>/refs/<branch>`. */
function refPath(cacheDir: string, repo: string, revision: string): string {
  return join(cacheDir, dirname(hubRevisionFolder(repo, 'x', 'model')), 'refs', revision);
}

export async function rememberRef(
  cacheDir: string,
  repo: string,
  revision: string,
  commit: string,
) {
  if (COMMIT_ID.test(revision)) return;
  const path = refPath(cacheDir, repo, revision);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, commit);
}

/** The commit a revision meant when it was last resolved here (a commit id means itself). */
export async function knownCommit(
  cacheDir: string,
  repo: string,
  revision: string,
): Promise<string | undefined> {
  if (COMMIT_ID.test(revision)) return revision;
  const path = refPath(cacheDir, repo, revision);
  if (!existsSync(path)) return undefined;
  const commit = (await readFile(path, 'utf8')).trim();
  return COMMIT_ID.test(commit) ? commit : undefined;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
