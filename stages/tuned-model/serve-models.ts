import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fail, ok, type Result } from '../../runner/result.ts';
import { downloadsAllowed, prepareWorker } from '../model-worker/model-ref.ts';
import { modelsDir } from '../model-worker/stand-in-model.ts';
import { WORKER_DIR } from '../model-worker/worker-client.ts';
import { TRAIN_OUTPUT } from '../train/contract.ts';
import { storedTrainJob, studySettings, type VariantStages } from './variant-stages.ts';

/**
 * The Python process behind `serve` (serve_models.py): one per base model, holding each
 * variant's model once loaded, so a second question costs only its decoding. Requests and
 * answers are JSON lines matched by id; a variant's state (loading, ready, failed) is what the
 * page shows while it waits.
 */
export type ModelState =
  | { state: 'loading' }
  | { state: 'ready'; seconds: number }
  | { state: 'failed'; message: string };

export interface TurnRecord {
  question: string;
  answer: string;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'serve_models.py');

interface ServeEvent {
  event: 'loaded' | 'answer' | 'error';
  id?: string;
  variant?: string;
  answer?: string;
  seconds?: number;
  message?: string;
}

export class ServedModels {
  readonly states = new Map<string, ModelState>();
  /** How many times each variant's model was loaded (once, however many questions). */
  readonly loads = new Map<string, number>();
  readonly #processes = new Map<string, Promise<Result<ChildProcess, string>>>();
  readonly #loading = new Map<string, Promise<Result<void, string>>>();
  readonly #waiting = new Map<string, (event: ServeEvent) => void>();
  #next = 0;

  /** Loads the variant's model once; later calls join the same load. */
  load(stages: VariantStages): Promise<Result<void, string>> {
    const name = stages.variant.name;
    let loading = this.#loading.get(name);
    if (!loading) {
      this.states.set(name, { state: 'loading' });
      loading = this.#load(stages).then((done) => {
        this.states.set(
          name,
          done.ok
            ? { state: 'ready', seconds: done.value }
            : { state: 'failed', message: done.error },
        );
        if (!done.ok) this.#loading.delete(name);
        return done.ok ? ok(undefined) : done;
      });
      this.#loading.set(name, loading);
    }
    return loading;
  }

  async ask(
    stages: VariantStages,
    question: { text: string; imagePath: string; turns: TurnRecord[] },
  ): Promise<Result<{ answer: string; seconds: number }, string>> {
    const loaded = await this.load(stages);
    if (!loaded.ok) return loaded;
    const process = await this.#process(stages.generate.params.model.base);
    if (!process.ok) return process;
    const event = await this.#request(process.value, {
      op: 'ask',
      variant: stages.variant.name,
      image: question.imagePath,
      turns: question.turns,
      question: question.text,
    });
    return event.event === 'answer'
      ? ok({ answer: event.answer ?? '', seconds: event.seconds ?? 0 })
      : fail(event.message ?? 'no answer');
  }

  async close(): Promise<void> {
    for (const pending of this.#processes.values()) {
      const process = await pending;
      if (process.ok) process.value.stdin?.end();
    }
  }

  async #load(stages: VariantStages): Promise<Result<number, string>> {
    const { params } = stages.generate;
    const process = await this.#process(params.model.base);
    if (!process.ok) return process;
    const { settings } = await studySettings(stages);
    const trainJob = stages.train ? await storedTrainJob(stages.train) : undefined;
    const event = await this.#request(process.value, {
      op: 'load',
      variant: stages.variant.name,
      base: params.model.base,
      revision: params.model.revision,
      models_dir: modelsDir(),
      allow_download: downloadsAllowed(),
      adapter: stages.train ? join(stages.train.outputDir, TRAIN_OUTPUT.adapter) : null,
      // The generate job's rule: its own image size, else the one the adapter was trained with.
      image_size: settings.image_size ?? trainJob?.train?.image_size ?? null,
      generate: settings,
    });
    if (event.event !== 'loaded') return fail(event.message ?? 'the model did not load');
    this.loads.set(stages.variant.name, (this.loads.get(stages.variant.name) ?? 0) + 1);
    return ok(event.seconds ?? 0);
  }

  #process(base: string): Promise<Result<ChildProcess, string>> {
    let pending = this.#processes.get(base);
    if (!pending) {
      pending = prepareWorker(base).then((ready) => {
        if (!ready.ok) return fail(ready.error.message);
        const child = spawn(ready.value.python, [SCRIPT], {
          env: { ...process.env, PYTHONPATH: WORKER_DIR, PYTHONUNBUFFERED: '1' },
          stdio: ['pipe', 'pipe', 'ignore'],
        });
        createInterface({ input: child.stdout }).on('line', (line) => {
          let event: ServeEvent;
          try {
            event = JSON.parse(line) as ServeEvent;
          } catch {
            return;
          }
          const key = event.id ?? '';
          this.#waiting.get(key)?.(event);
          this.#waiting.delete(key);
        });
        child.on('exit', () => {
          for (const [key, resolve] of this.#waiting) {
            resolve({ event: 'error', message: 'the model process ended' });
            this.#waiting.delete(key);
          }
        });
        return ok(child);
      });
      this.#processes.set(base, pending);
    }
    return pending;
  }

  #request(child: ChildProcess, request: Record<string, unknown>): Promise<ServeEvent> {
    const id = String(this.#next++);
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      child.stdin?.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }
}
