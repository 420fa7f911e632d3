import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail, ok, type Result } from '../../runner/result.ts';
import { downloadsAllowed, prepareWorker } from '../model-worker/model-ref.ts';
import { modelsDir } from '../model-worker/stand-in-model.ts';
import { WORKER_DIR } from '../model-worker/worker-client.ts';
import { TRAIN_OUTPUT } from '../train/contract.ts';
import { renderModelCard } from './model-card.ts';
import { trainingLicence } from './training-licence.ts';
import { storedTrainJob, studySettings, type VariantStages } from './variant-stages.ts';

/**
 * `export`'s work: a folder that plain transformers and PEFT load, built aside
 * (`<DIR>.partial-<nonce>`) and renamed into place when complete, so a failed export leaves
 * nothing half-written. The adapter's files are copied from the store with the base model named
 * as the spec names it (the stored config holds the path this machine resolved it to); the
 * processor, generation config and merged weights come from a small Python step in the
 * project's venv (export_model.py); the model card is written here.
 */
export const MERGED_DIR = 'merged';
export const ADAPTER_CONFIG = basename(TRAIN_OUTPUT.adapterConfig);
export const ADAPTER_WEIGHTS = basename(TRAIN_OUTPUT.adapterWeights);

export interface ExportRequest {
  stages: VariantStages;
  specName: string;
  to: string;
  merge: boolean;
}

export interface ExportResult {
  dir: string;
  files: string[];
  licence: string;
  imageSize: number | null;
  merged: boolean;
}

export interface ExportFailure {
  reason: 'input' | 'worker';
  message: string;
}

const EXPORT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'export_model.py');

export async function exportVariant(
  request: ExportRequest,
): Promise<Result<ExportResult, ExportFailure>> {
  const { stages, to } = request;
  const name = stages.variant.name;
  const train = stages.train;
  if (!train) {
    return fail({
      reason: 'input',
      message: `variant ${name} is untuned (train.method: none): it has no adapter to export; its model is ${stages.generate.params.model.base} itself`,
    });
  }
  const existing = await readdir(to).catch((error: NodeJS.ErrnoException) =>
    error.code === 'ENOENT' ? [] : error.code === 'ENOTDIR' ? ['(a file)'] : [`(${error.code})`],
  );
  if (existing.length > 0) {
    return fail({
      reason: 'input',
      message: `--to ${to} exists and is not an empty folder; name a new folder (nothing was written)`,
    });
  }
  const trainJob = await storedTrainJob(train);
  const { settings } = await studySettings(stages);
  // The worker's rule for the image size of a tuned model: generate's own, else training's.
  const imageSize = settings.image_size ?? trainJob?.train?.image_size ?? null;
  const model = stages.generate.params.model;

  const staging = `${to}.partial-${randomUUID().slice(0, 8)}`;
  await mkdir(staging, { recursive: true });
  try {
    await copyFile(
      join(train.outputDir, TRAIN_OUTPUT.adapterWeights),
      join(staging, ADAPTER_WEIGHTS),
    );
    // The stored config already names the base by the job's model and revision, not a folder
    // of this machine (the worker's name_base_portably), so it travels as it is.
    await copyFile(
      join(train.outputDir, TRAIN_OUTPUT.adapterConfig),
      join(staging, ADAPTER_CONFIG),
    );

    const ready = await prepareWorker(model.base);
    if (!ready.ok) return fail({ reason: 'worker', message: ready.error.message });
    const python = await runExportScript(ready.value.python, {
      base: model.base,
      revision: model.revision,
      models_dir: modelsDir(),
      allow_download: downloadsAllowed(),
      image_size: imageSize,
      generate: settings,
      out_dir: staging,
      adapter_dir: staging,
      merge: request.merge,
      merged_dir: MERGED_DIR,
    });
    if (!python.ok) return python;

    const records = await trainingRecords(trainJob?.data?.train);
    const figures = new Map(records.map((r) => [r.key ?? r.image ?? '', r.license]));
    await writeFile(
      join(staging, 'README.md'),
      renderModelCard({
        specName: request.specName,
        variant: name,
        ...(stages.variant.description !== undefined && {
          description: stages.variant.description,
        }),
        model,
        licence: trainingLicence([...figures.values()]),
        metrics: stages.evaluate?.metrics ?? {},
        settings,
        imageSize,
        provenance: {
          records: records.length,
          figures: figures.size,
          articles: new Set(records.map((r) => r.article_id)).size,
        },
        spec: stages.variant.spec,
        keys: stages.keys,
        ...(request.merge && { mergedDir: MERGED_DIR }),
      }),
    );
    await rmdir(to).catch(() => undefined);
    await rename(staging, to);
    return ok({
      dir: to,
      files: (await readdir(to, { recursive: true })).sort(),
      licence: trainingLicence([...figures.values()]).id,
      imageSize,
      merged: request.merge,
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

interface TrainingRecord {
  key?: string;
  image?: string;
  article_id?: string;
  license?: string | null;
}

/** The rows the adapter was trained on, as its train job read them from the store. */
async function trainingRecords(file: string | undefined): Promise<TrainingRecord[]> {
  if (file === undefined) return [];
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TrainingRecord);
}

function runExportScript(
  python: string,
  request: Record<string, unknown>,
): Promise<Result<unknown, ExportFailure>> {
  return new Promise((resolve) => {
    const child = spawn(python, [EXPORT_SCRIPT], {
      env: { ...process.env, PYTHONPATH: WORKER_DIR, PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end(JSON.stringify(request));
    child.on('error', (error) =>
      resolve(fail({ reason: 'worker', message: `cannot start ${python}: ${error.message}` })),
    );
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let answer: { ok?: unknown; error?: { kind: string; message: string } } = {};
      try {
        answer = JSON.parse(last);
      } catch {}
      if (code === 0 && answer.ok !== undefined) return resolve(ok(answer.ok));
      if (answer.error) {
        return resolve(
          fail({
            reason: answer.error.kind === 'model-not-found' ? 'input' : 'worker',
            message: answer.error.message,
          }),
        );
      }
      resolve(
        fail({
          reason: 'worker',
          message: `the export step ended without a result (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
        }),
      );
    });
  });
}
