import type { MlflowMetric } from './mlflow-types.ts';

/**
 * Step metrics of one variant's run on their way to MLflow: buffered so that a training loop's
 * per-step losses go as a few batches, numbered when the stage gave no step, and never logged
 * twice for a step (a stage rerun after a crash repeats the steps its first attempt logged).
 */
export class MetricBuffer {
  readonly #pending: MlflowMetric[] = [];
  readonly #nextStep = new Map<string, number>();
  /** Of a resumed run: the steps its earlier attempt logged, which are not logged again. */
  #logged: ReadonlyMap<string, ReadonlySet<number>> | undefined;

  /** A buffer holds at most this many metrics before it asks to be written. */
  static readonly BATCH = 500;

  /** Carries on a run an earlier session began: what it journalled is not logged again. */
  resume(logged: ReadonlyMap<string, ReadonlySet<number>>): void {
    this.#logged = logged;
  }

  alreadyLogged(key: string, step: number): boolean {
    return this.#logged?.get(key)?.has(step) === true;
  }

  /**
   * Buffers one streamed value at `step`, or at the next step of its key when the stage gave
   * none. True when the buffer is full and should be written now.
   */
  add(key: string, value: number, timestamp: number, step?: number): boolean {
    const at = step ?? this.#nextStep.get(key) ?? 0;
    this.#nextStep.set(key, at + 1);
    if (this.alreadyLogged(key, at)) return false;
    this.#pending.push({ key, value, timestamp, step: at });
    return this.#pending.length >= MetricBuffer.BATCH;
  }

  /** Everything buffered, oldest first; the buffer is empty afterwards. */
  take(): MlflowMetric[] {
    return this.#pending.splice(0);
  }
}

/** `eval/bleu` from the evaluate kind's `bleu`; a name that already holds a `/` is kept. */
export function metricKey(
  prefixes: Readonly<Record<string, string>>,
  kind: string,
  name: string,
): string {
  if (name.includes('/')) return name;
  return `${prefixes[kind] ?? kind}/${name}`;
}
