import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../runner/result.ts';
import { GENERATE_OUTPUT } from '../generate/contract.ts';
import { generateJob } from '../model-worker/job-builder.ts';
import { prepareWorker } from '../model-worker/model-ref.ts';
import { modelsDir } from '../model-worker/stand-in-model.ts';
import { runWorker, type WorkerFailure } from '../model-worker/worker-client.ts';
import type { GenerateSettings } from '../model-worker/worker-job.ts';
import { type StudySettings, studySettings, type VariantStages } from './variant-stages.ts';

/**
 * One variant's answer to one question about one image, through the worker's own `generate`
 * job (the path the study's predictions took): a one-record test file in a scratch folder, the
 * variant's stored adapter (none for the untuned baseline), and the generation settings its
 * generate stage ran with. The scratch folder is the caller's; the store is only read.
 */
export interface AskAnswer {
  variant: string;
  /** The base model as the spec names it, and its revision ('' when the spec pins none). */
  model: { base: string; revision: string };
  /** The train stage whose adapter answered; absent for the untuned base model. */
  adapterKey?: string;
  /** The generation settings the study evaluated the variant with. */
  settings: GenerateSettings;
  /** The longest image edge the model saw (null: the processor's own), as the worker resolved it. */
  imageSize: number | null;
  /** Where the settings were read: the stored generate stage's job, or its params when not run yet. */
  settingsFrom: StudySettings['from'];
  answer: string;
  newTokens: number;
  /** Wall time of the worker job, model load included. */
  seconds: number;
}

export interface AskFailure {
  /** `input`: the user's image or the model named; `worker`: anything else the worker met. */
  reason: 'input' | 'worker';
  message: string;
}

export async function askVariant(
  stages: VariantStages,
  question: { text: string; imagePath: string },
  scratch: string,
  signal?: AbortSignal,
): Promise<Result<AskAnswer, AskFailure>> {
  const { params } = stages.generate;
  const dir = join(scratch, safeName(stages.variant.name));
  await mkdir(dir, { recursive: true });
  const records = join(dir, 'question.jsonl');
  await writeFile(
    records,
    `${JSON.stringify({ id: 'ask', question: question.text, image: question.imagePath })}\n`,
  );
  const settings = await studySettings(stages);
  const job = generateJob(params, {
    records,
    imageRoot: dir,
    adapterDir: stages.train?.outputDir,
    outDir: join(dir, 'output'),
    modelsDir: modelsDir(),
    resumeDir: undefined,
  });
  job.generate = settings.settings;
  const ready = await prepareWorker(params.model.base);
  if (!ready.ok) return fail({ reason: 'worker', message: ready.error.message });
  let imageSize: number | null = job.generate.image_size;
  const started = performance.now();
  const done = await runWorker(job, {
    logFile: join(dir, 'worker.log'),
    python: ready.value.python,
    ...(signal && { signal }),
    onEvent: (event) => {
      if (event.event === 'started' && typeof event.image_size === 'number') {
        imageSize = event.image_size;
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (!done.ok) return fail(askFailure(stages.variant.name, done.error));
  const line = JSON.parse(
    (await readFile(join(job.output_dir, GENERATE_OUTPUT.predictions), 'utf8')).trim(),
  ) as { prediction: string; timing: { new_tokens: number } };
  return ok({
    variant: stages.variant.name,
    model: params.model,
    ...(stages.train && { adapterKey: stages.train.key }),
    settings: job.generate,
    imageSize,
    settingsFrom: settings.from,
    answer: line.prediction,
    newTokens: line.timing.new_tokens,
    seconds,
  });
}

function askFailure(variant: string, failure: WorkerFailure): AskFailure {
  switch (failure.reason) {
    case 'bad-image':
    case 'model-not-found':
      return { reason: 'input', message: `${variant}: ${failure.message}` };
    default:
      return {
        reason: 'worker',
        message: `${variant}: ${failure.message} (worker log: ${failure.logFile})`,
      };
  }
}

/** Variant names may carry `@path=value` (replicates); the scratch folder wants a plain name. */
function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_');
}
